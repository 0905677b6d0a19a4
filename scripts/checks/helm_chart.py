#!/usr/bin/env python3
"""Helm's own engine on helm/moing, offline (helm-sdkpy: the Helm v4 Go library).

    helm_chart.py <chart dir> <rendered set>

1. `helm lint` of the chart: structure, values and a render of every template;
   warnings count as failures.
2. The rendered example set is what the templates render for a default install.
   helm-sdkpy has no `template` action, but lint renders templates, and `tpl`
   renders any text with any context. So a scratch copy of the chart gets a check
   template that renders the real templates with `tpl` as release "moing" in
   namespace "moing", parses both sides document by document (fromYaml, then
   toYaml: keys sorted, comments and layout dropped, types kept) and compares them
   by kind and name. In lint mode Helm's `fail` only logs (a line on stderr), so the
   check logs each difference with both versions of the document, which this
   script reads back and prints as a diff, and then raises a real template error,
   which is what makes lint fail.

Needs Python >= 3.12 with helm-sdkpy and PyYAML (scripts/checks/deploy.sh
installs them).
"""

import ast
import asyncio
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import helm_sdkpy

RELEASE = "moing"
NAMESPACE = "moing"

CHECK_TEMPLATE = r"""
{{- /* The documents of a text as a dict "<kind>/<name>" -> canonical YAML. */ -}}
{{- define "check.docs" -}}
{{- $out := dict -}}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" . -1 -}}
{{- $m := fromYaml $doc -}}
{{- if hasKey $m "Error" -}}
{{- fail (toJson (list "moing-check" "unparsable document" $m.Error "")) -}}
{{- end -}}
{{- if $m.kind -}}
{{- $_ := set $out (printf "%s/%s" $m.kind $m.metadata.name) (toYaml $m) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- $release := dict "Name" "RELEASE" "Namespace" "NAMESPACE" "Service" "Helm" -}}
{{- $release = merge $release (dict "IsInstall" true "IsUpgrade" false "Revision" 1) -}}
{{- $ctx := dict "Values" .Values "Chart" .Chart "Capabilities" .Capabilities -}}
{{- $ctx = merge $ctx (dict "Files" .Files "Template" .Template "Release" $release) -}}
{{- $text := "" -}}
{{- range $path, $_ := .Files.Glob "check/src/*" -}}
{{- $text = printf "%s\n---\n%s" $text (tpl ($.Files.Get $path) $ctx) -}}
{{- end -}}
{{- $actual := include "check.docs" $text | fromYaml -}}
{{- $expected := .Files.Get "check/expected.yaml" | include "check.docs" | fromYaml -}}
{{- $differs := list -}}
{{- range $key := concat (keys $actual) (keys $expected) | uniq | sortAlpha -}}
{{- $a := get $actual $key -}}
{{- $e := get $expected $key -}}
{{- if ne $a $e -}}
{{- fail (toJson (list "moing-check" $key $a $e)) -}}
{{- $differs = append $differs $key -}}
{{- end -}}
{{- end -}}
{{- if $differs -}}
{{- /* `fail` only logged: an execution error makes lint fail. */ -}}
{{- $_ := index (list) 0 -}}
{{- end -}}
""".replace("RELEASE", RELEASE).replace("NAMESPACE", NAMESPACE)


def lint(chart: Path) -> tuple[list[dict], str]:
    """Messages of `helm lint` at warning level or above, and what Helm logged."""
    config = helm_sdkpy.Configuration(namespace=NAMESPACE)
    with tempfile.TemporaryFile() as log:
        # The Go library logs to file descriptor 2 itself.
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            result = asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        logged = log.read().decode(errors="replace")
    problems = [m for m in result.get("Messages") or [] if m.get("Severity", 0) >= 2]
    return problems, logged


SEVERITY = {2: "warning", 3: "error"}


def describe(m: dict) -> str:
    """A lint message; helm-sdkpy keeps its severity and place, not Helm's text."""
    err = m.get("Err") if isinstance(m.get("Err"), dict) else {}
    where = err.get("Name") or m.get("Path")
    return (
        f"{SEVERITY.get(m.get('Severity'), m.get('Severity'))} in {where} (helm-sdkpy drops Helm's message)"
    )


def differences(logged: str) -> list[tuple[str, str, str]]:
    """(kind/name, templates' version, expected version) from the check's log lines."""
    out = []
    for quoted in re.findall(r'message=("(?:[^"\\]|\\.)*")', logged):
        try:
            tag, key, actual, expected = json.loads(ast.literal_eval(quoted))
        except (ValueError, SyntaxError):
            continue
        if tag == "moing-check":
            out.append((key, actual or "", expected or ""))
    return out


def main() -> int:
    chart, rendered = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()

    problems, logged = lint(chart)
    for m in problems:
        print(f"helm lint: {describe(m)}")
    if problems and logged.strip():
        print(logged.rstrip())
    print(f"helm lint {chart.name}: {'FAILED' if problems else 'ok'}")
    failed = bool(problems)

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / chart.name
        shutil.copytree(chart, scratch, ignore=shutil.ignore_patterns("rendered", ".helmignore"))
        src = scratch / "check" / "src"
        src.mkdir(parents=True)
        for template in sorted((chart / "templates").iterdir()):
            if template.suffix == ".yaml" and not template.name.startswith("_"):
                shutil.copy(template, src / template.name)
        shutil.copy(rendered, scratch / "check" / "expected.yaml")
        (scratch / "templates" / "zz-rendered-check.yaml").write_text(CHECK_TEMPLATE)

        problems, logged = lint(scratch)
        found = differences(logged)
        for key, actual, expected in found:
            if not expected:
                print(f"rendered set lacks {key}, which the templates render")
            elif not actual:
                print(f"rendered set has {key}, which the templates do not render")
            else:
                print(f"rendered set differs from the templates in {key}:")
            diff = difflib.unified_diff(
                expected.splitlines(), actual.splitlines(), "rendered set", "templates", lineterm=""
            )
            print("\n".join(f"    {line}" for line in diff))
        if problems and not found:
            if logged.strip():
                print(logged.rstrip())
            for m in problems:
                print(f"helm lint of the check: {describe(m)}")
        failed |= bool(problems)
        verdict = "FAILED" if problems else "identical"
        print(f"{rendered.name} vs Helm's rendering of the templates: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
