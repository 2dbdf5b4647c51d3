"""Words about numbers, one way everywhere: "1 day", "2 days" (issue 13 found "1 days ago")."""


def date_in_words(day) -> str:
    """A date as pages and documents write it: "2 December 2026"."""
    return f"{day:%-d %B %Y}"


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`count` and the noun agreeing with it: plural(1, "day") is "1 day", plural(3, "day")
    "3 days"; irregular plurals are given: plural(2, "child", "children")."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_noun or noun + 's'}"
