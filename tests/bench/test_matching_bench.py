"""The existing-CAF check benchmark (issue 9): its children and labels are reproducible and
labelled as documented, and a small run times the app's own check and reports it in its own
section of bench/RESULTS.md."""

import json

from bench import matching as bench_matching
from bench.population import DUPLICATE_KINDS, NON_MATCH_KINDS, generate

COMPARED = ("given_name", "family_name", "date_of_birth", "postcode")
NAMES = ({"given_name"}, {"family_name"})

# What differs between a query and its partner, for each kind of labelled query.
DIFFERENCES = {
    "typo in a name": NAMES,
    "short form of given name": ({"given_name"},),
    "given and family names swapped": ({"given_name", "family_name"},),
    "changed family name": ({"family_name"},),
    "day and month of birth swapped": ({"date_of_birth"},),
    "date of birth typo": ({"date_of_birth"},),
    "moved address": ({"postcode"},),
    "moved address and a typo": tuple(names | {"postcode"} for names in NAMES),
    "moved address and a short form": ({"given_name", "postcode"},),
    "moved address and changed family name": ({"family_name", "postcode"},),
    "moved address and a date of birth typo": ({"date_of_birth", "postcode"},),
    "moved address and day/month swapped": ({"date_of_birth", "postcode"},),
    "twin": ({"given_name"},),
    "same common name, different child": ({"date_of_birth", "postcode"},),
    "sibling at the same address": ({"given_name", "date_of_birth"},),
}


def test_the_same_seed_gives_the_same_children_and_labels():
    first = generate(3_000, duplicates=60, non_matches=30, seed=4)

    assert generate(3_000, duplicates=60, non_matches=30, seed=4) == first
    assert generate(3_000, duplicates=60, non_matches=30, seed=5).population != first.population


def test_each_query_differs_from_its_partner_only_as_its_label_says():
    dataset = generate(30_000, duplicates=1_000, non_matches=500, seed=4)

    assert {query.kind for query in dataset.queries} == set(DUPLICATE_KINDS) | set(NON_MATCH_KINDS)
    assert sum(query.duplicate for query in dataset.queries) == 1_000
    assert len({query.partner for query in dataset.queries}) == 1_500
    for query in dataset.queries:
        record, partner = query.record, dataset.population[query.partner]
        differing = {
            field for field in COMPARED if getattr(record, field) != getattr(partner, field)
        }
        assert differing in DIFFERENCES[query.kind], (query.kind, record, partner)
        if "postcode" in differing:
            assert record.postcode[:-2] != partner.postcode[:-2]  # another sector
        if query.kind.endswith("names swapped"):
            assert (record.given_name, record.family_name) == (
                partner.family_name,
                partner.given_name,
            )
        if "day" in query.kind:
            born, typed = partner.date_of_birth, record.date_of_birth
            assert (typed.year, typed.month, typed.day) == (born.year, born.day, born.month)
        if "date of birth typo" in query.kind:
            digits = zip(
                record.date_of_birth.strftime("%Y%m%d"),
                partner.date_of_birth.strftime("%Y%m%d"),
                strict=True,
            )
            assert [abs(int(a) - int(b)) for a, b in digits if a != b] == [1]


def test_a_small_run_times_the_apps_check_and_replaces_only_its_own_section(
    tmp_path, monkeypatch, capsys
):
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# Benchmarks\n\nThe pages section.\n\n"
        "<!-- matching:start -->\nLast run's figures\n<!-- matching:end -->\n\nAfter.\n"
    )
    monkeypatch.setattr(bench_matching, "RESULTS_MD", results)
    monkeypatch.setattr(bench_matching, "RESULTS_JSON", tmp_path / "matching.json")

    # On CI's PostgreSQL run MAF_TEST_DATABASE_URL names a server, so both databases are timed.
    bench_matching.main(
        ["--children", "3000", "--duplicates", "60", "--non-matches", "30"]
        + ["--no-splink", "--write-results"]
    )

    printed = capsys.readouterr().out
    text = results.read_text()
    assert text.startswith("# Benchmarks\n\nThe pages section.\n\n<!-- matching:start -->\n")
    assert text.endswith("<!-- matching:end -->\n\nAfter.\n")
    assert "Last run's figures" not in text
    assert "## Existing-CAF check" in text
    assert printed.strip() in text
    report = json.loads((tmp_path / "matching.json").read_text())
    for figures in report["latency"].values():
        assert figures["checks"] == 90
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]
    app = report["accuracy"]["App, match threshold"]
    exact = report["accuracy"]["Exact name + date of birth"]
    assert app["duplicates"] == exact["duplicates"] == 60
    assert app["recall"] > exact["recall"]
