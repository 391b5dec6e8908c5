"""Surviving mutants of tests/mutation.py that are accepted, each with the reason: the change is
equivalent (no behaviour differs) or only touches what no rule depends on (a log message, a
timing). They still count against the kill rate; the report lists them apart from the survivors
that want a test. A name is only valid while its function's code is unchanged (mutmut numbers the
mutants of a function in order): after editing a function, rerun its scope and review the list."""

ACCEPTED: dict[str, str] = {
}
