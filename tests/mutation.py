"""Mutation testing of the rules the portal exists for, with mutmut ([tool.mutmut] in pyproject.toml).

    .venv/bin/python tests/mutation.py              # mutate the rule modules, run their tests, report
    .venv/bin/python tests/mutation.py --report     # report on the last run only
    .venv/bin/python tests/mutation.py uscc outbox  # only these scopes (names below)
    .venv/bin/python tests/mutation.py --again      # only the last run's survivors, after adding tests

mutmut copies the code into mutants/, makes every small change it can (a < for a <=, a False for a
True, a dropped argument...) one at a time, and runs the tests that reach the changed function; a
change that no test notices "survives". This prints, per scope, how many were killed and the kill
rate, and lists the survivors (`mutmut show NAME` shows one). It is slow (about half an hour for
everything on two cores) and not part of CI.
"""

import json
import subprocess
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")

# Scope → the mutants (module.function patterns) holding its rules.
CASE_RULES = ("case_open", "check_lead", "locked_case", "case_transition", "case_close", "case_assign_expert",
              "case_release_expert")
SCOPES = {
    "uscc": ["enterprises.uscc.*"],
    # What each user may see (the counting and survey helpers beside them are no access rule).
    "jurisdiction": ["portal.selectors.*", "enterprises.selectors.x_*_visible_to__mutmut_*",
                     "experts.selectors.x_experts_visible_to__mutmut_*", "campaigns.selectors.*"],
    "cases": [f"campaigns.cases.services.x_{name}__mutmut_*" for name in CASE_RULES],
    "internal remarks": ["campaigns.cases.selectors.*"],
    "kpi engine": ["campaigns.kpis.engine.*"],
    "exports": ["portal.exports.*"],
    "import all-or-nothing": ["portal.imports.jobs.x_job_import__mutmut_*",
                              "portal.imports.jobs.x_job_import_valid_rows__mutmut_*",
                              "experts.importing.x_expert_import__mutmut_*"],
    # Not `idempotent_post`: a decorator runs when the views are imported, before mutmut can switch
    # a mutant on for a test, so no test could ever reach its mutants.
    "idempotency": ["portal.idempotency.x_fingerprint__mutmut_*", "portal.idempotency.x_once__mutmut_*",
                    "portal.idempotency.x_forget_old__mutmut_*", "portal.idempotency.x_canonical__mutmut_*",
                    "portal.idempotency.xǁ*"],
    "outbox": ["portal.outbox.*"],
}
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # failed, errored, timed out or refused by the type check
SURVIVED = {0}


def results() -> dict[str, int | None]:
    """Every mutant's exit code from mutmut's files (None: not run yet)."""
    found = {}
    for meta in (ROOT / "mutants").rglob("*.meta"):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def report(scopes: dict[str, list[str]]) -> bool:
    codes = results()
    print("| scope | mutants | killed | survived | no test reaches it | not run | kill rate |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total, survivors, all_good = Counter(), [], True
    for scope, patterns in scopes.items():
        names = sorted(name for name in codes if any(fnmatch(name, pattern) for pattern in patterns))
        count = Counter()
        for name in names:
            code = codes[name]
            kind = ("not run" if code is None else "killed" if code in KILLED else
                    "survived" if code in SURVIVED else "no tests")
            count[kind] += 1
            if kind in ("survived", "no tests"):
                survivors.append((scope, name, kind))
        total.update(count)
        tried = count["killed"] + count["survived"] + count["no tests"]
        rate = 100 * count["killed"] / tried if tried else 0.0
        all_good &= rate >= 90
        print(f"| {scope} | {len(names)} | {count['killed']} | {count['survived']} | {count['no tests']} | "
              f"{count['not run']} | {rate:.1f}% |")
    tried = total["killed"] + total["survived"] + total["no tests"]
    rate = 100 * total["killed"] / tried if tried else 0.0
    print(f"| **all** | {sum(total.values())} | {total['killed']} | {total['survived']} | {total['no tests']} | "
          f"{total['not run']} | **{rate:.1f}%** |")
    if survivors:
        print("\nSurvivors (`.venv/bin/mutmut show NAME`):")
        for scope, name, kind in survivors:
            print(f"- {scope}: {name}" + (" (no test reaches it)" if kind == "no tests" else ""))
    return all_good and rate >= 90


def main(argv: list[str]) -> int:
    only_report = "--report" in argv
    wanted = [arg for arg in argv if not arg.startswith("--")]
    scopes = {scope: patterns for scope, patterns in SCOPES.items() if not wanted or scope.split()[0] in wanted}
    patterns = [pattern for patterns in scopes.values() for pattern in patterns]
    if "--again" in argv:
        # mutmut reruns every mutant named on its command line, and only those.
        patterns = sorted(name for name, code in results().items()
                          if code not in KILLED and any(fnmatch(name, pattern) for pattern in patterns))
    if not only_report and patterns:
        subprocess.run([str(MUTMUT), "run", *patterns], cwd=ROOT, check=False)
    return 0 if report(scopes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
