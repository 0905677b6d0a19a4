// The live goal board through independent clients: member A watches one team's
// board four ways at once — gRPC-web over HTTP/1.1 and over HTTP/2 through the
// gateway (@connectrpc/connect-node), REST NDJSON through the gateway (fetch),
// and plain gRPC with grpcio on a second board replica (live_board_grpcio.py) —
// then member B proves a mission: every watcher must show it within 1 s. Then A
// removes B, whose own watcher must end with NOT_FOUND within 1 s.
//
// usage: NODE_PATH=.moing/tools/node_modules node live-board.cjs <gateway-url>
//          <descriptor.binpb> <second replica host:port> <python>
const fs = require("node:fs");
const path = require("node:path");
const { spawn } = require("node:child_process");
const readline = require("node:readline");
const { createClient, ConnectError, Code } = require("@connectrpc/connect");
const { createGrpcWebTransport } = require("@connectrpc/connect-node");
const { createFileRegistry, fromBinary } = require("@bufbuild/protobuf");
const { FileDescriptorSetSchema } = require("@bufbuild/protobuf/wkt");

const LIMIT_MS = 1000;

function bearer(token) {
  return { headers: { authorization: `Bearer ${token}` } };
}

async function member(auth) {
  for (let i = 0; i < 8; i++) {
    const nickname = "lb" + Math.floor(Math.random() * 1e8);
    const signedIn = await auth.signIn({
      credential: { case: "development", value: { nickname } },
      device: { name: "live-board", platform: 3 },
    });
    if (!signedIn.signUpRequired) continue; // an older member has this nickname
    try {
      const up = await auth.signUp({ nickname }, bearer(signedIn.tokens.accessToken));
      return { token: up.accessToken, id: up.member.memberId };
    } catch (e) {
      if (ConnectError.from(e).code !== Code.AlreadyExists) throw e;
    }
  }
  throw new Error("eight random nicknames were all taken");
}

// A watcher: `seen(pred)` resolves with the time the first board matching
// `pred` arrived; `ended` resolves with the code that ended the stream.
function watcher(name) {
  const boards = [];
  const waiting = [];
  let endResolve;
  const ended = new Promise((r) => (endResolve = r));
  return {
    name,
    ended,
    board(rates) {
      const at = Date.now();
      boards.push({ at, rates });
      for (const w of waiting.splice(0)) {
        if (w.pred(rates)) w.resolve(at);
        else waiting.push(w);
      }
    },
    end(code) {
      endResolve({ code, at: Date.now() });
    },
    seen(pred) {
      const hit = boards.find((b) => pred(b.rates));
      if (hit) return Promise.resolve(hit.at);
      return new Promise((resolve) => waiting.push({ pred, resolve }));
    },
    count: () => boards.length,
  };
}

function ratesOf(board) {
  const rates = {};
  for (const r of board.ranking) rates[r.memberId] = r.rate === undefined ? null : r.rate;
  return rates;
}

async function connectWatch(boards, teamId, token, w) {
  try {
    for await (const msg of boards.watchGoalBoard({ teamId }, bearer(token))) {
      if (msg.update.case === "goalBoard") w.board(ratesOf(msg.update.value));
    }
    w.end("OK");
  } catch (e) {
    w.end(Code[ConnectError.from(e).code]);
  }
}

async function restWatch(baseUrl, teamId, token, w) {
  try {
    const resp = await fetch(`${baseUrl}/v1/teams/${teamId}/goal-board:watch`, bearer(token));
    if (resp.headers.get("content-type") !== "application/x-ndjson") {
      throw new Error(`REST watch answered ${resp.status} ${resp.headers.get("content-type")}`);
    }
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of resp.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line);
        if (msg.goalBoard) {
          const rates = {};
          for (const r of msg.goalBoard.ranking || []) rates[r.memberId] = r.rate ?? null;
          w.board(rates);
        } else if (msg.status && msg.code) {
          w.end(msg.status); // the error body ends the stream
          return;
        }
      }
    }
    w.end("OK");
  } catch (e) {
    w.end(`failed: ${e.message}`);
  }
}

function grpcioWatch(python, target, descriptors, teamId, token, w) {
  const child = spawn(python, [path.join(__dirname, "live_board_grpcio.py"), target, descriptors, teamId, token], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    const msg = JSON.parse(line);
    if (msg.kind === "board") w.board(msg.rates);
    if (msg.kind === "end") w.end(msg.code);
  });
  return child;
}

function within(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)),
  ]);
}

async function main() {
  const [baseUrl, descriptorPath, secondReplica, python] = process.argv.slice(2);
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, fs.readFileSync(descriptorPath)));
  const h1 = createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  const h2 = createGrpcWebTransport({ baseUrl, httpVersion: "2" });
  const service = (name, t) => createClient(registry.getService(name), t);
  const auth = service("moing.auth.v1.AuthService", h1);
  const teams = service("moing.moim.v1.TeamService", h1);
  const missions = service("moing.mission.v1.MissionService", h1);

  const a = await member(auth);
  const b = await member(auth);
  const today = new Date(Date.now() + 9 * 3600 * 1000);
  const date = (d) => ({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
  const created = await teams.createTeam(
    { name: "라이브보드", category: 1, startDate: date(today), endDate: date(new Date(today.getTime() + 7 * 86400000)) },
    bearer(a.token),
  );
  const teamId = created.team.teamId;
  const invite = await teams.createInvite({ teamId }, bearer(a.token));
  await teams.joinTeam({ code: invite.invite.code }, bearer(b.token));
  const mission = await missions.createMission(
    { teamId, title: "라이브", kind: 1, way: 1, deadline: { seconds: BigInt(Math.floor(Date.now() / 1000) + 86400), nanos: 0 } },
    bearer(a.token),
  );

  const watchers = {
    "gRPC-web HTTP/1.1 (gateway)": watcher("h1"),
    "gRPC-web HTTP/2 (gateway)": watcher("h2"),
    "REST NDJSON (gateway)": watcher("rest"),
    "gRPC grpcio (second replica)": watcher("grpcio"),
  };
  const w = Object.values(watchers);
  connectWatch(service("moing.board.v1.BoardService", h1), teamId, a.token, w[0]);
  connectWatch(service("moing.board.v1.BoardService", h2), teamId, a.token, w[1]);
  restWatch(baseUrl, teamId, a.token, w[2]);
  const child = grpcioWatch(python, secondReplica, descriptorPath, teamId, a.token, w[3]);
  const removed = watcher("b");
  connectWatch(service("moing.board.v1.BoardService", h1), teamId, b.token, removed);
  try {
    // Everyone has the first board, and the mission's own change has passed.
    await within(Promise.all([...w, removed].map((x) => x.seen(() => true))), 5000, "first boards");
    await new Promise((r) => setTimeout(r, 700));

    const proved = (rates) => rates[b.id] === 1;
    const sent = Date.now();
    await missions.submitProof(
      { teamId, missionId: mission.mission.id, body: { case: "text", value: "라이브로 인증" } },
      bearer(b.token),
    );
    const lines = [];
    for (const [name, x] of Object.entries(watchers)) {
      const at = await within(x.seen(proved), 3000, name);
      const ms = at - sent;
      lines.push(`${name} ${ms} ms`);
      if (ms > LIMIT_MS) throw new Error(`${name}: the proof showed after ${ms} ms (limit ${LIMIT_MS})`);
    }
    console.log(`live goal board: B's proof reached every watcher of A: ${lines.join(", ")}`);

    const removing = Date.now();
    await teams.removeTeamMember({ teamId, memberId: b.id }, bearer(a.token));
    const end = await within(removed.ended, 3000, "B's watcher after removal");
    const ms = end.at - removing;
    if (end.code !== "NotFound") throw new Error(`B's watcher ended with ${end.code}, not NotFound`);
    if (ms > LIMIT_MS) throw new Error(`B's watcher ended ${ms} ms after the removal (limit ${LIMIT_MS})`);
    console.log(`live goal board: B removed, B's stream ended NOT_FOUND after ${ms} ms`);
  } finally {
    child.kill();
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
