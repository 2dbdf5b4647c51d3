"""The words the service uses for the assessment, the forum and the lead professional.

Since the Families First Partnership reforms (2025) many councils say "early help assessment"
(EHA) and "lead practitioner" where the seeds say "Common Assessment Framework" (CAF) and "lead
professional"; some call the forum a "team around the family" (TAF). An admin sets the words as
local rules (maf.rules.services); this module makes every form a sentence needs from them: the
article ("a CAF", "an EHA"), the plural, a capital at the start of a sentence, and the names of
roles built from them ("CAF coordinator").

What is generated now uses the words in force now (`words()`); what was frozen when it was made
(approved minutes, sent emails) keeps the words it was made with. Labels made at import time
(enum labels, form labels) are `Worded`: they read the words each time they are shown.
"""

from dataclasses import dataclass
from functools import cached_property

from flask import has_app_context, has_request_context, request
from markupsafe import escape

WORD_RULES = {
    "assessment": "word_assessment",
    "assessment_short": "word_assessment_short",
    "forum": "word_forum",
    "forum_short": "word_forum_short",
    "lead_professional": "word_lead_professional",
}
# Words after which a phrase's noun has ended: "team around the family" -> "teams around the
# family", "plan for the child" -> "plans for the child".
_PREPOSITIONS = {"around", "of", "for", "with", "in", "on", "at", "to", "about"}
# Words starting with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUNDS = ("one", "once", "uni", "use", "usu", "eu", "ewe")
_VOWEL_SOUNDS = ("hour", "honest", "honour", "heir")
# Letters whose name starts with a vowel sound: "an EHA", "an LP", "an FSP", "an MHST".
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")


def capitalised(text: str) -> str:
    """`text` with a capital first letter and nothing else changed ("early help assessment" ->
    "Early help assessment"; "CAF" stays "CAF"): the start of a sentence or a label."""
    return text[:1].upper() + text[1:]


def _is_initialism(word: str) -> bool:
    """Said letter by letter ("EHA", "LP") rather than as a word ("CAF", "TAF", "MAF"): all
    capitals, and not a consonant, vowel, consonant that reads as a syllable."""
    letters = word.rstrip("s")
    if not (letters.isalpha() and letters.isupper() and len(letters) > 1):
        return False
    sayable = len(letters) >= 3 and letters[1] in "AEIOU" and letters[0] not in "AEIOU"
    return not sayable


def article(phrase: str) -> str:
    """ "a" or "an", by how `phrase` is said: "a CAF", "an EHA", "an early help assessment",
    "a multi-agency forum", "a unified assessment", "an hour"."""
    first = phrase.split(" ", 1)[0] if phrase else ""
    if _is_initialism(first):
        return "an" if first[0] in _VOWEL_SOUND_LETTERS else "a"
    lower = first.lower()
    if lower.startswith(_VOWEL_SOUNDS):
        return "an"
    if lower.startswith(_CONSONANT_SOUNDS):
        return "a"
    return "an" if lower[:1] in "aeiou" else "a"


def _plural_word(word: str) -> str:
    if word.isupper():
        return word + "s"  # CAFs, EHAs: no apostrophe
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    return word + "s"


def plural(phrase: str) -> str:
    """The plural of a noun phrase: its noun, the word before any preposition, takes the
    plural ("lead professionals", "teams around the family", "CAFs")."""
    parts = phrase.split(" ")
    noun = len(parts) - 1
    for index, part in enumerate(parts[1:], start=1):
        if part.lower() in _PREPOSITIONS:
            noun = index - 1
            break
    parts[noun] = _plural_word(parts[noun])
    return " ".join(parts)


def initials(phrase: str) -> str:
    """ "lead professional" -> "LP", "lead practitioner" -> "LP"."""
    return "".join(part[0] for part in phrase.split() if part).upper()


@dataclass(frozen=True)
class Words:
    """The words in force, and every form of them a sentence needs. Lower-case forms are for
    the middle of a sentence; the ones ending `_cap` start a sentence or a label."""

    assessment: str = "Common Assessment Framework"
    assessment_short: str = "CAF"
    forum: str = "multi-agency forum"
    forum_short: str = "MAF"
    lead_professional: str = "lead professional"

    # --- the assessment: "CAF" / "EHA" ----------------------------------------------------
    @cached_property
    def assessments_short(self) -> str:
        return plural(self.assessment_short)

    @cached_property
    def a_assessment_short(self) -> str:
        """ "a CAF", "an EHA"."""
        return f"{article(self.assessment_short)} {self.assessment_short}"

    @cached_property
    def a_assessment_short_cap(self) -> str:
        return capitalised(self.a_assessment_short)

    @cached_property
    def assessment_cap(self) -> str:
        return capitalised(self.assessment)

    @cached_property
    def assessments(self) -> str:
        return plural(self.assessment)

    @cached_property
    def a_assessment(self) -> str:
        return f"{article(self.assessment)} {self.assessment}"

    @cached_property
    def assessment_in_full(self) -> str:
        """ "Common Assessment Framework (CAF)": where the short name is first introduced."""
        return f"{self.assessment} ({self.assessment_short})"

    # --- the coordinator role, named after the assessment ------------------------------------
    @cached_property
    def coordinator(self) -> str:
        """ "CAF coordinator", "EHA coordinator"."""
        return f"{self.assessment_short} coordinator"

    @cached_property
    def coordinators(self) -> str:
        return f"{self.assessment_short} coordinators"

    @cached_property
    def a_coordinator(self) -> str:
        return f"{article(self.assessment_short)} {self.coordinator}"

    # --- the forum: "multi-agency forum" / "MAF" ---------------------------------------------
    @cached_property
    def forum_cap(self) -> str:
        return capitalised(self.forum)

    @cached_property
    def forums(self) -> str:
        return plural(self.forum)

    @cached_property
    def forums_cap(self) -> str:
        return capitalised(self.forums)

    @cached_property
    def a_forum(self) -> str:
        return f"{article(self.forum)} {self.forum}"

    @cached_property
    def forums_short(self) -> str:
        return plural(self.forum_short)

    # --- the lead professional -----------------------------------------------------------------
    @cached_property
    def lead_professional_cap(self) -> str:
        return capitalised(self.lead_professional)

    @cached_property
    def lead_professionals(self) -> str:
        return plural(self.lead_professional)

    @cached_property
    def lead_professionals_cap(self) -> str:
        return capitalised(self.lead_professionals)

    @cached_property
    def a_lead_professional(self) -> str:
        return f"{article(self.lead_professional)} {self.lead_professional}"

    @cached_property
    def lead_professional_short(self) -> str:
        """ "LP": where a table's column has no room for the whole name."""
        return initials(self.lead_professional)


DEFAULT_WORDS = Words()
_REQUEST_ATTRIBUTE = "_maf_words"


def words() -> Words:
    """The words in force now. A request makes them once (the rules are read once per request
    by maf.rules.services); outside a request (jobs, the command line) they are read afresh,
    so a job never uses words an admin has since changed. Outside the application (a constant
    made at import) they are the seeds' words: such a label cannot follow a change, and the
    test that walks every page with other words finds it."""
    if not has_app_context():
        return DEFAULT_WORDS
    holder = request._get_current_object() if has_request_context() else None
    cached = getattr(holder, _REQUEST_ATTRIBUTE, None) if holder is not None else None
    if cached is not None and cached[0] is _rules_read(holder):
        return cached[1]
    from maf.rules import services

    made = Words(**{field: services.current(rule) for field, rule in WORD_RULES.items()})
    if holder is not None:
        setattr(holder, _REQUEST_ATTRIBUTE, (_rules_read(holder), made))
    return made


def _rules_read(holder):
    """What maf.rules.services read for this request: a change of a rule during the request
    makes it read them again, and these words with it."""
    from maf.rules import services

    return getattr(holder, services._CACHE_ATTRIBUTE, None)


class Worded:
    """A label written once, at import, that reads the words each time it is shown:
    `Worded("{w.coordinator}")` is "CAF coordinator" today and "EHA coordinator" once an admin
    has changed the words. It behaves as the string it stands for (comparison, formatting,
    joining with +, string methods, which return plain strings); `str()` it to store it."""

    __slots__ = ("template", "then")

    def __init__(self, template: str, then=None):
        self.template = template
        self.then = then  # what is made of the words, e.g. a message from a form's label

    @property
    def data(self) -> str:
        text = self.template.format(w=words())
        return self.then(text) if self.then is not None else text

    def __str__(self) -> str:
        return self.data

    def __html__(self) -> str:
        return str(escape(self.data))

    def __repr__(self) -> str:
        return f"Worded({self.template!r})"

    def __format__(self, spec: str) -> str:
        return format(self.data, spec)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.data, name)  # .lower(), .startswith(), ...: plain strings

    def __eq__(self, other) -> bool:
        return self.data == (other.data if isinstance(other, Worded) else other)

    def __hash__(self) -> int:
        return hash(self.data)  # as the string it stands for

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.template)

    def __contains__(self, part) -> bool:
        return str(part) in self.data

    def __iter__(self):
        return iter(self.data)

    def __getitem__(self, index):
        return self.data[index]

    def __lt__(self, other) -> bool:
        return self.data < str(other)

    def __add__(self, other) -> str:
        return self.data + str(other)

    def __radd__(self, other) -> str:
        return str(other) + self.data

    def __mod__(self, values) -> str:
        return self.data % values


def worded(template: str) -> str:
    """`template` ("{w.a_assessment_short}") in the words in force now, as a plain string: for
    text built at the moment it is needed (flash messages, errors, documents, emails)."""
    return template.format(w=words())


class _WordsWhenUsed:
    """`words()`, read the first time a template asks for a word, and then kept for the rest
    of that template: a page that says none of them reads no rule."""

    def __init__(self):
        self._words: Words | None = None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._words is None:
            self._words = words()
        return getattr(self._words, name)


class _WordsNow:
    """`words()` at each use: for macros imported without the template's context."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(words(), name)


def init_app(app) -> None:
    """`{{ words.assessment_short }}` in every template: each render reads the words once (a
    macro imported without context reads them when it uses one, from the request's copy)."""
    app.jinja_env.globals["words"] = _WordsNow()
    app.context_processor(lambda: {"words": _WordsWhenUsed()})


def made_from(label, make):
    """`make(label)`, for a message made from a form's label at import ("Enter the ...", "...
    must be 200 characters or fewer"): when `label` is `Worded`, made each time it is shown."""
    if not isinstance(label, Worded):
        return make(label)
    if label.then is None:
        return Worded(label.template, make)
    return Worded(label.template, lambda text, first=label.then: make(first(text)))


def followed_by(label, rest: str):
    """`label` then `rest` ("... must be 200 characters or fewer"), still reading the words when
    shown if `label` is `Worded`."""
    return made_from(label, lambda text: f"{text}{rest}")
