"""Mutation testing of the rules the portal exists for, with mutmut ([tool.mutmut] in pyproject.toml).

    .venv/bin/python tests/mutation.py              # mutate the rule modules, run their tests, report
    .venv/bin/python tests/mutation.py --report     # report on the last run only
    .venv/bin/python tests/mutation.py uscc outbox  # only these scopes (names below)
    .venv/bin/python tests/mutation.py --again      # only the last run's survivors, after adding tests
    .venv/bin/python tests/mutation.py --max-children 1 kpi   # one test session at a time
    .venv/bin/python tests/mutation.py --sample 200 kpi       # a random 200 of the scope's mutants

mutmut copies the code into mutants/, makes every small change it can (a < for a <=, a False for a
True, a dropped argument...) one at a time, and runs the tests that reach the changed function; a
change that no test notices "survives". This prints, per scope, how many were killed and the kill
rate, and lists the survivors (`mutmut show NAME` shows one). It is slow (about half an hour for
everything on two cores) and not part of CI.
"""

import json
import random
import subprocess
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

from mutation_accepted import ACCEPTED

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
TEMPLATE_DATABASE = ".test-db-mutation-template.sqlite3"

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
        try:
            found.update(json.loads(meta.read_text())["exit_code_by_key"])
        except ValueError:  # a run stopped while mutmut wrote the file: its mutants count as not run
            print(f"Unreadable, skipped: {meta.relative_to(ROOT)}", file=sys.stderr)
    return found


def kind_of(name: str, code: int | None) -> str:
    if code is None:
        return "not run"
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "accepted" if name in ACCEPTED else "survived"
    return "no tests"


def report(scopes: dict[str, list[str]]) -> bool:
    """The table per scope. The kill rate is killed / run: an accepted (equivalent) survivor counts
    against it like any other, it is only listed apart, with the reason it was accepted."""
    codes = results()
    print("| scope | mutants | killed | survived | accepted equivalent | no test reaches it | not run | kill rate |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total, listed, all_good = Counter(), [], True
    for scope, patterns in scopes.items():
        names = sorted(name for name in codes if any(fnmatch(name, pattern) for pattern in patterns))
        count = Counter()
        for name in names:
            kind = kind_of(name, codes[name])
            count[kind] += 1
            if kind in ("survived", "no tests", "accepted"):
                listed.append((scope, name, kind))
        total.update(count)
        tried = len(names) - count["not run"]
        rate = 100 * count["killed"] / tried if tried else 0.0
        all_good &= rate >= 90
        print(f"| {scope} | {len(names)} | {count['killed']} | {count['survived']} | {count['accepted']} | "
              f"{count['no tests']} | {count['not run']} | {rate:.1f}% |")
    tried = sum(total.values()) - total["not run"]
    rate = 100 * total["killed"] / tried if tried else 0.0
    print(f"| **all** | {sum(total.values())} | {total['killed']} | {total['survived']} | {total['accepted']} | "
          f"{total['no tests']} | {total['not run']} | **{rate:.1f}%** |")
    survivors = [(scope, name, kind) for scope, name, kind in listed if kind != "accepted"]
    if survivors:
        print("\nSurvivors (`.venv/bin/mutmut show NAME`):")
        for scope, name, kind in survivors:
            print(f"- {scope}: {name}" + (" (no test reaches it)" if kind == "no tests" else ""))
    accepted = [(scope, name) for scope, name, kind in listed if kind == "accepted"]
    if accepted:
        print("\nAccepted survivors (tests/mutation_accepted.py):")
        for scope, name in accepted:
            print(f"- {scope}: {name}: {ACCEPTED[name]}")
    stale = sorted(name for name in ACCEPTED if kind_of(name, codes.get(name)) == "killed")
    if stale:
        print("\nAccepted but now killed (remove from tests/mutation_accepted.py): " + ", ".join(stale))
    return all_good and rate >= 90


def main(argv: list[str]) -> int:
    only_report = "--report" in argv
    children = []  # mutmut runs as many tests side by side as there are cores unless told otherwise
    if "--max-children" in argv:
        at = argv.index("--max-children")
        children = ["--max-children", argv[at + 1]]
        argv = argv[:at] + argv[at + 2:]
    sample = None
    if "--sample" in argv:
        at = argv.index("--sample")
        sample = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    wanted = [arg for arg in argv if not arg.startswith("--")]
    scopes = {scope: patterns for scope, patterns in SCOPES.items() if not wanted or scope.split()[0] in wanted}
    patterns = [pattern for patterns in scopes.values() for pattern in patterns]
    if "--again" in argv:
        # mutmut reruns every mutant named on its command line, and only those (not the ones never run).
        patterns = sorted(name for name, code in results().items()
                          if code is not None and code not in KILLED
                          and any(fnmatch(name, pattern) for pattern in patterns))
    if sample is not None:
        # The same draw every time (a fixed seed), so a rerun after adding tests tries the same ones.
        patterns = sorted(random.Random(16).sample(
            sorted(name for name in results() if any(fnmatch(name, pattern) for pattern in patterns)), sample))
    if not only_report and patterns:
        # The sessions copy the test database the first one migrates (tests/conftest.py): a new one
        # per run, in case the migrations changed.
        (ROOT / "mutants" / TEMPLATE_DATABASE).unlink(missing_ok=True)
        subprocess.run([str(MUTMUT), "run", *children, *patterns], cwd=ROOT, check=False)
    return 0 if report(scopes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
