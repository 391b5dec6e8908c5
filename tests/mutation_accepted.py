"""Surviving mutants of tests/mutation.py that are accepted, each with the reason: the change is
equivalent (no behaviour differs) or only shows on PostgreSQL, where a test covers it (mutmut runs
the suite on SQLite). They still count against the kill rate; the report lists them apart from
the survivors that want a test. A name is only valid while its function's code is unchanged
(mutmut numbers the mutants of a function in order): after editing a function, rerun its scope and
review the list."""

ACCEPTED: dict[str, str] = {
    # portal/outbox.py
    "portal.outbox.x_drain__mutmut_6": "skip_locked=None: SQLite has no row locks; on PostgreSQL "
    "test_on_postgresql_a_drain_skips_the_entries_another_worker_holds kills it",
    "portal.outbox.x_drain__mutmut_7": "skip_locked=False: as above, PostgreSQL only",
    "portal.outbox.x_drain_after_commit__mutmut_3": "getattr default None instead of False: both false",
    "portal.outbox.x__wake__mutmut_3": "getattr default None instead of False: settings.py always defines "
    "OUTBOX_DRAIN_INLINE, the default is never read",
    "portal.outbox.x__wake__mutmut_6": "getattr without its default: settings.py always defines OUTBOX_DRAIN_INLINE",
    "portal.outbox.x__wake__mutmut_9": "getattr default True: settings.py always defines OUTBOX_DRAIN_INLINE",
    "portal.outbox.x__drain_in_background__mutmut_5": "return instead of break: nothing follows the loop "
    "but the finally, which runs either way",
    "portal.outbox.x_listen__mutmut_3": "listener = '' instead of None: differs only when connecting fails, "
    "and closing '' then raises an error the finally swallows",
    # portal/imports/jobs.py, experts/importing.py
    "experts.importing.x_expert_import__mutmut_13": "the file name of an upload without a name: the form refuses "
    "a file without one before the import is called",
    # campaigns/cases/services.py
    "campaigns.cases.services.x_case_assign_expert__mutmut_19": "FOR UPDATE without OF: SQLite takes no row "
    "locks; on PostgreSQL it would lock the pool's region row too (more waiting, same outcome)",
    "campaigns.cases.services.x_case_assign_expert__mutmut_21": "FOR UPDATE OF an unknown table: SQLite takes no "
    "row locks; on PostgreSQL Django refuses it and every assignment test fails",
    "campaigns.cases.services.x_case_assign_expert__mutmut_22": "as above (OF 'SELF')",
    "campaigns.cases.services.x_locked_case__mutmut_7": "FOR UPDATE without OF: SQLite takes no row locks; on "
    "PostgreSQL it would lock the case's firm and campaign rows too (more waiting, same outcome)",
    "campaigns.cases.services.x_locked_case__mutmut_8": "FOR UPDATE OF an unknown table: SQLite takes no row locks; "
    "on PostgreSQL Django refuses it and every case step fails",
    "campaigns.cases.services.x_locked_case__mutmut_9": "as above (OF 'SELF')",
    # campaigns/kpis/engine.py (other work is changing this module: renumber after a rerun)
    "campaigns.kpis.engine.xǁRecountǁwrite__mutmut_4": "an update reading every stored row instead of the affected "
    "places' rows (and a full count only those): same figures, and rows whose figures did not change are not written",
    "campaigns.kpis.engine.xǁRecountǁadd_up_cells__mutmut_34": "break instead of continue on a width with no wanted "
    "place: `wanted` holds every level's place above each touched code, so no width is empty unless all are",
    "campaigns.kpis.engine.xǁRecountǁcodes__mutmut_2": "the default of touched.cells.get: run() asks only for the "
    "sources the update touched, which are always there",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_2": "PostgreSQL's advisory lock not taken: on SQLite the other "
    "branch runs either way; on PostgreSQL the campaign row lock then serialises the recounts instead",
    "campaigns.kpis.engine.xǁRecountǁ__init____mutmut_1": "the default of `first`: its only caller, recount(), "
    "always passes it",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_3": "the vendor compared with 'POSTGRESQL': on SQLite the other "
    "branch runs; on PostgreSQL test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign "
    "(tests/test_case_concurrency.py) fails without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_4": "the advisory lock's statement None: PostgreSQL only, on "
    "SQLite the other branch runs; on PostgreSQL test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign "
    "(tests/test_case_concurrency.py) fails without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_5": "the advisory lock's parameters None: PostgreSQL only, on "
    "SQLite the other branch runs; on PostgreSQL test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign "
    "(tests/test_case_concurrency.py) fails without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_6": "the advisory lock's statement dropped: PostgreSQL only, on "
    "SQLite the other branch runs; on PostgreSQL test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign "
    "(tests/test_case_concurrency.py) fails without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_7": "the advisory lock's parameters dropped: PostgreSQL only, on "
    "SQLite the other branch runs; on PostgreSQL test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign "
    "(tests/test_case_concurrency.py) fails without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_8": "the advisory lock's statement garbled: PostgreSQL only, on "
    "SQLite the other branch runs; on PostgreSQL test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign "
    "(tests/test_case_concurrency.py) fails without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_9": "the advisory lock's SQL in lower case: SQL keywords are "
    "case-insensitive",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_10": "the advisory lock's SQL in upper case: PostgreSQL only "
    "(where %S is no placeholder), on SQLite the other branch runs; on PostgreSQL "
    "test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign (tests/test_case_concurrency.py) fails "
    "without the lock",
    "campaigns.kpis.engine.x_lock_runs_of__mutmut_13": "SQLite's branch locking no row (pk=None): SQLite takes no "
    "row locks anyway, it serialises writers",
    "campaigns.kpis.engine.x_recount__mutmut_1": "lock_runs_of(None): on SQLite its row lock is no lock; on "
    "PostgreSQL the advisory lock of campaign NULL locks nothing and "
    "test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign (tests/test_case_concurrency.py) fails "
    "without the lock",
    "campaigns.kpis.engine.x_recount__mutmut_4": "the campaign read without its region joined: one more query per "
    "recount, same figures",
    "campaigns.kpis.engine.x_recount__mutmut_17": "a first count's `targets` flag None: a first count is a full one, "
    "and run() recounts the targets of every region for a full count whatever the flag",
    "campaigns.kpis.engine.x_recount__mutmut_19": "a first count's `targets` flag left out: as mutant 17",
    "campaigns.kpis.engine.x_shares_of_total__mutmut_13": "a missing whole taken as 1 instead of 0: a scheme or "
    "service-area row holds its part (firms certified, surveyed certified, wanting) only for firms that are in the "
    "region's whole (assisted, surveyed, baseline surveys), so the whole is never missing or 0 where the part is "
    "present",
    "campaigns.kpis.engine.x_shares_of_total__mutmut_17": "pop without its default: derive() always sets both scheme "
    "shares, so the key is there to pop",
    "campaigns.kpis.engine.xǁRecountǁcodes__mutmut_4": "touched.cells.get without its default: run() recounts only "
    "sources named in touched.cells, so the key is always there",
    "campaigns.kpis.engine.xǁRecountǁrecount_additive__mutmut_6": "an update recounting every cell of the source "
    "instead of the touched codes': the same figures, more work (the written rows are compared and only changed ones "
    "stored either way)",
    "campaigns.kpis.engine.xǁRecountǁrecount_additive__mutmut_8": "as mutant 6",
    "campaigns.kpis.engine.xǁRecountǁrecount_additive__mutmut_45": "the source's cells counted for every code, only "
    "the touched ones' compared: the touched codes' cells are the same, the others are read and not used",
    "campaigns.kpis.engine.xǁRecountǁrecount_additive__mutmut_56": "every region affected instead of the touched "
    "codes' places: the others' sums are added up again and found unchanged, nothing is written",
    "campaigns.kpis.engine.xǁRecountǁrun__mutmut_10": "affected_places set to every region instead of adding them: "
    "every region includes whatever was there",
    "campaigns.kpis.engine.xǁTouchedǁadd__mutmut_2": "every source noted whatever the write named: more is "
    "recounted, the same figures",
    "campaigns.kpis.engine.xǁRecountǁadd_up_cells__mutmut_4": "the sums cast to no type: SQLite adds the JSON text "
    "up as numbers anyway; on PostgreSQL sum(text) does not exist and every test of tests/test_kpi_updates.py fails",
    "campaigns.kpis.engine.xǁRecountǁadd_up_cells__mutmut_35": "< instead of <= MAX_PREFIX_FILTERS: at exactly that "
    "many regions the update reads every cell and keeps the wanted places instead of filtering by prefix, the same "
    "sums (test_updates_touching_more_regions_than_are_filtered_one_by_one_still_add_up_right checks that path)",
    "campaigns.kpis.engine.xǁRecountǁadd_up_cells__mutmut_76": "a NULL sum made int: SQLite reads a cell's JSON null "
    "as the text 'null' and casts it to 0, so a place's sum is never NULL there; on PostgreSQL it is, and "
    "test_answers_nobody_gave_leave_their_sums_and_means_empty fails",
    "campaigns.kpis.engine.xǁRecountǁrecount_additive__mutmut_68": "every place added up again instead of the "
    "affected ones: the others are found unchanged and nothing is written for them",
    "campaigns.kpis.engine.xǁRecountǁrecount_distinct__mutmut_3": "an update recounting a distinct source for every "
    "region instead of the touched codes' places: the same figures, more work",
    "campaigns.kpis.engine.xǁRecountǁrecount_distinct__mutmut_17": "as mutant 3 (every place counted, the affected "
    "ones compared)",
    "campaigns.cases.services.x_locked_case__mutmut_5": "the locked case read without its firm joined: the steps "
    "that need the firm read it with one more query, the same outcome",
    "campaigns.cases.services.x_locked_case__mutmut_6": "the locked case read without its campaign joined: as mutant "
    "5, for the campaign",
    "campaigns.kpis.engine.xǁRecountǁwrite_cells__mutmut_4": "every fresh cell written whether or not it changed: "
    "the same values (an upsert), more writes",
    "campaigns.kpis.engine.xǁRecountǁwrite_cells__mutmut_5": "as mutant 4 (no stored cell found for any key)",
    "campaigns.kpis.engine.xǁRecountǁwrite_cells__mutmut_28": "cells upserted in one batch instead of batches of "
    "1,000: Django splits by the backend's own limit, the same rows",
    "campaigns.kpis.engine.xǁRecountǁwrite_cells__mutmut_33": "as mutant 28 (no batch_size)",
    "campaigns.kpis.engine.xǁRecountǁwrite_cells__mutmut_37": "batches of 1,001 instead of 1,000: the same rows",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_6": "pop('certified_share') without its default: derive() "
    "always sets it, so the key is there to pop",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_11": "as mutant 6, for surveyed_certified_share",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_23": "the region's totals defaulting to None: a breakdown row "
    "is only written beside its region's total row, which is always among the merged keys",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_25": "as mutant 23 (no default)",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_44": "targets.get('targets', None): targets_by_region and "
    "write() always give a 'targets' entry, so the default is never read",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_46": "as mutant 44 (no default)",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_61": "split(':') without maxsplit: a target's key (a scheme or "
    "service-area code) holds no ':', so there is exactly one",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_62": "rsplit instead of split: as mutant 61",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_64": "split(':', 2): as mutant 61",
    "campaigns.kpis.engine.xǁRecountǁfigures__mutmut_80": "None instead of {} as the targets of a breakdown row's "
    "own figures: only a region's total row reads its targets",
    "campaigns.kpis.engine.xǁRecountǁwrite__mutmut_150": "snapshot rows upserted in one batch instead of batches of "
    "1,000: Django splits by the backend's own limit, the same rows",
    "campaigns.kpis.engine.xǁRecountǁwrite__mutmut_155": "as mutant 150 (no batch_size)",
    "campaigns.kpis.engine.xǁRecountǁwrite__mutmut_159": "batches of 1,001 instead of 1,000: the same rows",
    "portal.idempotency.xǁIdempotentAPIMixinǁdispatch__mutmut_10": "super().dispatch without *args: the API's routes "
    "pass every URL part by name, so args is always empty",
    "portal.idempotency.xǁIdempotentAPIMixinǁdispatch__mutmut_19": "initial() without **kwargs: initial() reads them "
    "only for a format suffix and a versioning scheme, and the portal's API has neither (SimpleRouter, no "
    "DEFAULT_VERSIONING_CLASS)",
    "portal.idempotency.xǁIdempotentAPIMixinǁdispatch__mutmut_53": "the handler without **kwargs: every POST action "
    "of the API's viewsets takes pk=None and reads the object through get_object(), which uses self.kwargs, set "
    "above from the same kwargs",
    "campaigns.cases.services.x_case_open__mutmut_244": "the opening event's from_status left out: the field's "
    "default is the same empty string",
    "campaigns.cases.services.x_case_open__mutmut_60": "needs of cases with no status (None) counted as taken "
    "instead of those of open cases: a need of a closed case is settled and refused as such before this check, so "
    "the two differ on no need",
    "campaigns.cases.services.x_case_open__mutmut_204": "the period message garbled: the check inside the "
    "transaction, reached only when the period is shortened between the check before it and the lock; on PostgreSQL "
    "test_a_case_opened_while_the_period_is_shortened_never_lands_outside_it exercises the refusal, not its wording",
    "campaigns.cases.services.x_case_open__mutmut_205": "the period message in lower case: the check inside the "
    "transaction, reached only when the period is shortened between the check before it and the lock; on PostgreSQL "
    "test_a_case_opened_while_the_period_is_shortened_never_lands_outside_it exercises the refusal, not its wording",
    "campaigns.cases.services.x_case_open__mutmut_207": "the period message garbled: the check inside the "
    "transaction, reached only when the period is shortened between the check before it and the lock; on PostgreSQL "
    "test_a_case_opened_while_the_period_is_shortened_never_lands_outside_it exercises the refusal, not its wording",
    "campaigns.cases.services.x_case_open__mutmut_208": "the period message in upper case: the check inside the "
    "transaction, reached only when the period is shortened between the check before it and the lock; on PostgreSQL "
    "test_a_case_opened_while_the_period_is_shortened_never_lands_outside_it exercises the refusal, not its wording",
    "campaigns.cases.services.x_case_open__mutmut_231": "the refusal of a second open case without its field: the "
    "last guard, reached only when a second opening passes every check, the model's validation included, before the "
    "first commits, and the partial unique index refuses it: no test can time that; the race a test can make "
    "(test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why, PostgreSQL) is refused one step "
    "earlier, with the same message on the same field",
    "campaigns.cases.services.x_case_open__mutmut_232": "the refusal of a second open case under another key: the "
    "last guard, reached only when a second opening passes every check, the model's validation included, before the "
    "first commits, and the partial unique index refuses it: no test can time that; the race a test can make "
    "(test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why, PostgreSQL) is refused one step "
    "earlier, with the same message on the same field",
    "campaigns.cases.services.x_case_open__mutmut_233": "as mutant 232",
    "campaigns.cases.services.x_case_open__mutmut_234": "the refusal of a second open case without its message: the "
    "last guard, reached only when a second opening passes every check, the model's validation included, before the "
    "first commits, and the partial unique index refuses it: no test can time that; the race a test can make "
    "(test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why, PostgreSQL) is refused one step "
    "earlier, with the same message on the same field",
    "campaigns.cases.services.x_case_open__mutmut_235": "the refusal's message garbled: the last guard, reached only "
    "when a second opening passes every check, the model's validation included, before the first commits, and the "
    "partial unique index refuses it: no test can time that; the race a test can make "
    "(test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why, PostgreSQL) is refused one step "
    "earlier, with the same message on the same field",
    "campaigns.cases.services.x_case_open__mutmut_236": "the refusal's message in lower case: the last guard, "
    "reached only when a second opening passes every check, the model's validation included, before the first "
    "commits, and the partial unique index refuses it: no test can time that; the race a test can make "
    "(test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why, PostgreSQL) is refused one step "
    "earlier, with the same message on the same field",
    "campaigns.cases.services.x_case_open__mutmut_237": "the refusal's message in upper case: the last guard, "
    "reached only when a second opening passes every check, the model's validation included, before the first "
    "commits, and the partial unique index refuses it: no test can time that; the race a test can make "
    "(test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why, PostgreSQL) is refused one step "
    "earlier, with the same message on the same field",
    "campaigns.kpis.engine.x_derive__mutmut_117": "a mean's answer count defaulting to None instead of 0: the survey "
    "source counts the answers beside their sum, so the count is there whenever the sum is, and mean() gives None "
    "for both otherwise",
    "campaigns.kpis.engine.x_derive__mutmut_120": "as mutant 117 (defaulting to 1): with no answers the sum is None "
    "too, and mean() gives None",
    "campaigns.kpis.engine.x_derive__mutmut_142": "'or' instead of 'and' before the wait's division: the needs "
    "source sums the wait over exactly the needs it counts as visited, so the two are None or 0 together",
    "campaigns.kpis.engine.x_derive__mutmut_144": "money and hours left unrounded: a sum kept in fen or tenths "
    "divided by 100 or 10 is already the float nearest its two decimals, which round() gives back unchanged",
    # campaigns/cases/selectors.py (internal remarks scope: who sees which cases and visits, and in what order)
    "campaigns.cases.selectors.x_cases_visible_to__mutmut_6": "select_related without 'enterprise': "
    "'enterprise__region' joins the enterprise too, the same single query",
    "campaigns.cases.selectors.x_visits_visible_to__mutmut_5": "select_related without 'case': 'case__enterprise' "
    "joins the case too, the same single query",
    "campaigns.cases.selectors.x_overdue_follow_ups__mutmut_4": "no id after the follow-up date: it only orders "
    "cases promised the same day, which SQLite returns in id order anyway",
    "campaigns.cases.selectors.x_stale_cases__mutmut_6": "no id after the visit and opening moments: it only "
    "orders exact ties, which SQLite returns in id order anyway",
    "campaigns.cases.selectors.x_action_first__mutmut_6": "the rank's output_field None: Django takes the "
    "integer field from the Value(0..3) branches",
    "campaigns.cases.selectors.x_action_first__mutmut_11": "the rank without output_field: as mutant 6",
    "campaigns.cases.selectors.x_action_first__mutmut_13": "an overdue case ranked NULL instead of 0: SQLite sorts "
    "NULL first, so overdue cases still lead; PostgreSQL sorts it last and test_case_list_order fails there",
    "campaigns.cases.selectors.x_action_first__mutmut_15": "as mutant 13 (When without then)",
    "campaigns.cases.selectors.x_action_first__mutmut_16": "as mutant 13 (Value(None))",
    "campaigns.cases.selectors.x_action_first__mutmut_17": "overdue ranked 1 like stale: within that rank the "
    "overdue date (set only on overdue cases, NULLs last) still puts every overdue case first, longest first",
    "campaigns.cases.selectors.x_action_first__mutmut_33": "closed cases ranked 4 instead of 3: still last",
    "campaigns.cases.selectors.x_action_first__mutmut_36": "overdue_since default None instead of Value(None): "
    "both are NULL",
    "campaigns.cases.selectors.x_action_first__mutmut_37": "overdue_since's output_field None: Django takes the "
    "date field from next_follow_up_on",
    "campaigns.cases.selectors.x_action_first__mutmut_39": "overdue_since without a default: a Case's default is "
    "NULL anyway",
    "campaigns.cases.selectors.x_action_first__mutmut_40": "overdue_since without output_field: as mutant 37",
    "campaigns.cases.selectors.x_action_first__mutmut_55": "no id after the opening moment: it only orders cases "
    "opened at the same microsecond, which SQLite returns in id order anyway",
    "campaigns.cases.selectors.x_action_first__mutmut_62": "nulls_last=None: inside one rank the overdue date is "
    "set on every case (overdue) or on none (the others), so where NULLs sort never matters",
    # portal/idempotency.py
    "portal.idempotency.x_canonical__mutmut_19": "cls=None: with default=str given, json.dumps's encoder uses str "
    "for every value JSON cannot hold, so DjangoJSONEncoder's own default is never called either way",
    "portal.idempotency.x_canonical__mutmut_24": "without cls: as mutant 19",
    "portal.idempotency.x_canonical__mutmut_20": "ensure_ascii=None: falsy, the same as False",
    "portal.idempotency.x_canonical__mutmut_21": "default=None (DjangoJSONEncoder's default then): request.data "
    "holds only what DRF's JSON and form parsers make (strings, numbers, lists, dicts, uploads already named "
    "by name:size), so no default is ever consulted",
    "portal.idempotency.x_canonical__mutmut_26": "without default: as mutant 21",
    "portal.idempotency.x_once__mutmut_57": "saving every field instead of the three answer fields: the row was "
    "inserted in this same transaction and nothing else changed it, so the same values are written",
    # portal/selectors.py, enterprises/selectors.py, campaigns/selectors.py (jurisdiction)
    "portal.selectors.x_region_search__mutmut_13": "codes = '' instead of None for a typed number: `codes` is only "
    "read for typed letters, so the value is never used",
    "portal.selectors.x_region_search__mutmut_35": "counties ranked 3 instead of 2: still after cities",
    "portal.selectors.x_region_search__mutmut_44": "501 candidates instead of 500 before ranking: candidates come "
    "in code order, and the 20 shown (lowest levels, then codes) always lie among the first 500",
    "enterprises.selectors.x_enterprises_visible_to__mutmut_15": "the national shortcut skipped: "
    "enterprises_in('') is an empty Q(), so the filter keeps every firm, the same rows",
    "enterprises.selectors.x_claims_visible_to__mutmut_6": "select_related without 'enterprise': "
    "'enterprise__region' joins the enterprise too, the same single query",
    "enterprises.selectors.x_needs_visible_to__mutmut_5": "select_related without 'enterprise': "
    "'enterprise__region' joins the enterprise too, the same single query",
}
