#!/usr/bin/env python3
"""Helm's own engine on helm/moing, offline (helm-sdkpy: the Helm v4 Go library).

    helm_chart.py <chart dir> <rendered set>

1. `helm lint` of the chart: structure, values and a render of every template;
   warnings count as failures.
2. The rendered example set is what the templates render for a default install.
   helm-sdkpy has no `template` action, but lint renders templates, and `tpl`
   renders any text with any context. So a scratch copy of the chart gets one
   check template per expected document: it renders the real templates with
   `tpl` as release "moing" in namespace "moing", parses every document with
   fromYaml, and fails unless the document with that kind and name equals the
   expected one. In lint mode Helm's `fail` only logs (an INFO line on stderr,
   which here carries what the templates render), so a check also raises a real
   template error; lint names the failing check template, and error texts are
   lost on the way through the library, so that file name is the message.

Needs Python >= 3.12 with helm-sdkpy and PyYAML (scripts/checks/deploy.sh
installs them).
"""

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

import helm_sdkpy
import yaml

RELEASE = "moing"
NAMESPACE = "moing"

# Shared by the check templates: the documents of `text` as a dict
# "<kind>/<name>" -> canonical YAML (fromYaml then toYaml, keys sorted).
CHECK_HELPERS = r"""
{{- define "check.docs" -}}
{{- $out := dict -}}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" . -1 -}}
{{- $m := fromYaml $doc -}}
{{- if hasKey $m "Error" -}}
{{- include "check.fail" (printf "unparsable document: %s" $m.Error) -}}
{{- end -}}
{{- if $m.kind -}}
{{- $_ := set $out (printf "%s/%s" $m.kind $m.metadata.name) (toYaml $m) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- /* `fail` only logs in lint mode: log the reason, then raise an execution error. */ -}}
{{- define "check.fail" -}}
{{- fail . -}}
{{- $_ := index (list) 0 -}}
{{- end -}}

{{- define "check.actual" -}}
{{- $release := dict "Name" "RELEASE" "Namespace" "NAMESPACE" "Service" "Helm" -}}
{{- $release = merge $release (dict "IsInstall" true "IsUpgrade" false "Revision" 1) -}}
{{- $ctx := dict "Values" .Values "Chart" .Chart "Capabilities" .Capabilities -}}
{{- $ctx = merge $ctx (dict "Files" .Files "Template" .Template "Release" $release) -}}
{{- $text := "" -}}
{{- range $path, $_ := .Files.Glob "check/src/*" -}}
{{- $text = printf "%s\n---\n%s" $text (tpl ($.Files.Get $path) $ctx) -}}
{{- end -}}
{{- include "check.docs" $text -}}
{{- end -}}
""".replace("RELEASE", RELEASE).replace("NAMESPACE", NAMESPACE)

# One per expected document; KEY is "<kind>/<name>".
CHECK_ONE = r"""
{{- $actual := include "check.actual" . | fromYaml -}}
{{- $expected := .Files.Get "check/expected.yaml" | include "check.docs" | fromYaml -}}
{{- if ne (get $actual "KEY") (get $expected "KEY") -}}
{{- include "check.fail" (printf "KEY differs; the templates render:\n%s" (get $actual "KEY")) -}}
{{- end -}}
"""

# Documents the templates render that the expected set lacks.
CHECK_EXTRA = r"""
{{- $actual := include "check.actual" . | fromYaml -}}
{{- $expected := .Files.Get "check/expected.yaml" | include "check.docs" | fromYaml -}}
{{- range $key, $_ := $actual -}}
{{- if not (hasKey $expected $key) -}}
{{- include "check.fail" (printf "%s is not in the expected set" $key) -}}
{{- end -}}
{{- end -}}
"""


def lint(chart: Path) -> list[dict]:
    """Messages of `helm lint` at warning level or above."""
    config = helm_sdkpy.Configuration(namespace=NAMESPACE)
    result = asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))
    return [m for m in result.get("Messages") or [] if m.get("Severity", 0) >= 2]


def expected_keys(rendered: Path) -> list[str]:
    keys = []
    for doc in yaml.safe_load_all(rendered.read_text()):
        if doc:
            keys.append(f"{doc['kind']}/{doc['metadata']['name']}")
    return keys


def main() -> int:
    chart, rendered = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    failed = False

    problems = lint(chart)
    for m in problems:
        print(f"helm lint: severity {m['Severity']} in {m.get('Path')}: {m.get('Err')}")
    failed |= bool(problems)
    print(f"helm lint {chart.name}: {'FAILED' if problems else 'ok'}")

    keys = expected_keys(rendered)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / chart.name
        shutil.copytree(chart, scratch, ignore=shutil.ignore_patterns("rendered", ".helmignore"))
        src = scratch / "check" / "src"
        src.mkdir(parents=True)
        for template in sorted((chart / "templates").iterdir()):
            if template.suffix == ".yaml" and not template.name.startswith("_"):
                shutil.copy(template, src / template.name)
        shutil.copy(rendered, scratch / "check" / "expected.yaml")
        templates = scratch / "templates"
        (templates / "_check.tpl").write_text(CHECK_HELPERS)
        names = {}
        for i, key in enumerate(keys):
            name = f"zz-check-{i:03d}.yaml"
            names[name] = key
            (templates / name).write_text(CHECK_ONE.replace("KEY", key))
        names["zz-check-extra.yaml"] = "documents missing from the expected set"
        (templates / "zz-check-extra.yaml").write_text(CHECK_EXTRA)

        problems = lint(scratch)
        for m in problems:
            err = m.get("Err") or {}
            template = Path(str(err.get("Name", "")) if isinstance(err, dict) else "").name
            what = names.get(template, template or m.get("Path"))
            print(f"rendered set differs from the templates: {what}")
        failed |= bool(problems)
        print(
            f"{rendered.name} vs Helm's rendering of the templates ({len(keys)} documents): "
            f"{'FAILED' if problems else 'identical'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
