// An independent gRPC-web client: @connectrpc/connect-node with
// createGrpcWebTransport drives a real flow through the gateway, using the
// descriptor set from `buf build` (no generated stubs).
//
// usage: NODE_PATH=.moing/tools/node_modules node connect-flow.cjs <gateway-url> <descriptor.binpb>
const fs = require("node:fs");
const { createClient, ConnectError, Code } = require("@connectrpc/connect");
const { createGrpcWebTransport } = require("@connectrpc/connect-node");
const { createFileRegistry, fromBinary } = require("@bufbuild/protobuf");
const { FileDescriptorSetSchema } = require("@bufbuild/protobuf/wkt");

async function expectCode(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    const err = ConnectError.from(e);
    if (err.code === code) return err;
    throw new Error(`${what}: expected code ${code}, got ${err.code} ${err.rawMessage}`);
  }
  throw new Error(`${what}: expected an error`);
}

async function main() {
  const [baseUrl, descriptorPath] = process.argv.slice(2);
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, fs.readFileSync(descriptorPath)));
  const transport = createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  const auth = createClient(registry.getService("moing.auth.v1.AuthService"), transport);
  const teams = createClient(registry.getService("moing.moim.v1.TeamService"), transport);
  const missions = createClient(registry.getService("moing.mission.v1.MissionService"), transport);
  const nickname = "cn" + Math.floor(Math.random() * 1e8);

  const signedIn = await auth.signIn({
    credential: { case: "development", value: { nickname } },
    device: { name: "connect-node", platform: 3 },
  });
  if (!signedIn.signUpRequired) throw new Error("a new member must sign up");
  const pending = { headers: { authorization: `Bearer ${signedIn.tokens.accessToken}` } };
  await expectCode(auth.getMyProfile({}, pending), Code.PermissionDenied, "pending member reads profile");

  const up = await auth.signUp({ nickname }, pending);
  let active = { headers: { authorization: `Bearer ${up.accessToken}` } };
  const me = await auth.getMyProfile({}, active);
  if (me.member.nickname !== nickname) throw new Error("profile nickname mismatch");
  const sessions = await auth.listSessions({ pageSize: 10 }, active);
  if (sessions.sessions.length !== 1 || !sessions.sessions[0].current) throw new Error("one current session expected");

  const rotated = await auth.refreshToken({ refreshToken: signedIn.tokens.refreshToken });
  await expectCode(
    auth.refreshToken({ refreshToken: signedIn.tokens.refreshToken }),
    Code.Unauthenticated,
    "replayed refresh token",
  );
  await expectCode(
    auth.refreshToken({ refreshToken: rotated.tokens.refreshToken }),
    Code.Unauthenticated,
    "token of a revoked family",
  );
  // The replay ended the session: its access token stops within a second
  // (services reuse a "live" answer for at most 500 ms).
  for (let i = 0; ; i++) {
    try {
      await auth.getMyProfile({}, active);
    } catch (e) {
      if (ConnectError.from(e).code === Code.Unauthenticated) break;
      throw e;
    }
    if (i >= 20) throw new Error("access token of a revoked family still accepted after 1 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  await expectCode(auth.getMyProfile({}), Code.Unauthenticated, "no token");
  const again = await auth.signIn({
    credential: { case: "development", value: { nickname } },
    device: { name: "connect-node", platform: 3 },
  });
  if (again.signUpRequired) throw new Error("the member signs in again, already signed up");
  active = { headers: { authorization: `Bearer ${again.tokens.accessToken}` } };
  // Teams (moim): create one, invite, preview and see it listed.
  const today = new Date(Date.now() + 9 * 3600 * 1000);
  const date = (d) => ({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
  const created = await teams.createTeam(
    { name: "connect팀", category: 1, startDate: date(today), endDate: date(new Date(today.getTime() + 7 * 86400000)) },
    active,
  );
  const invite = await teams.createInvite({ teamId: created.team.teamId }, active);
  const preview = await teams.previewInvite({ code: invite.invite.code }, active);
  if (!preview.preview.alreadyMember) throw new Error("the leader is already a member");
  const members = await teams.listTeamMembers({ teamId: created.team.teamId }, active);
  if (members.members[0].nickname !== nickname) throw new Error("member display data comes from auth");
  if (preview.preview.leaderNickname !== nickname) throw new Error("preview shows the leader's nickname");
  const mine = await teams.listMyTeams({}, active);
  if (mine.teams.length !== 1 || mine.teams[0].name !== "connect팀") throw new Error("team not listed");
  await expectCode(teams.getTeam({ teamId: "00000000-0000-7000-8000-000000000000" }, active), Code.NotFound, "unknown team");

  // Missions (mission asks moim who is in the team): a ONCE text mission, proved once.
  const teamId = created.team.teamId;
  const mission = await missions.createMission(
    { teamId, title: "한 권 읽기", kind: 1, way: 1, deadline: { seconds: BigInt(Math.floor(Date.now() / 1000) + 86400), nanos: 0 } },
    active,
  );
  const proved = await missions.submitProof(
    { teamId, missionId: mission.mission.id, body: { case: "text", value: "다 읽었다" } },
    active,
  );
  if (proved.myProgress.doneCount !== 1) throw new Error("the proof counts as done");
  await expectCode(
    missions.submitProof({ teamId, missionId: mission.mission.id, body: { case: "text", value: "again" } }, active),
    Code.AlreadyExists,
    "second proof of a ONCE mission",
  );
  console.log(`connect-node gRPC-web flow ok (member ${me.member.memberId})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
