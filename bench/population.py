"""Synthetic children for the existing-CAF check benchmark (issue 9): a population and a
labelled set of query records.

The population is N children in households: siblings share a family name and a postcode, about
3% of households with two or more children have twins (same date of birth). Names are UK names:
half the commonest names given to babies in England and Wales since 2008 (the children's
generation; weights falling as rank^-0.4, so that the commonest is about 2% of its sex, as
Oliver and Olivia have been), half Faker's en_GB given-name lists; surnames from Faker's
weighted en_GB list mixed with its en_IE list, which brings Smith to about 1.3% of children,
as in the UK population; 15% of households take their names from Faker's en_IE, en_IN or
pl_PL lists instead. Postcodes are Faker en_GB postcodes in a fixed pool of sectors, so that
neighbours share a sector.

Each labelled query is a new record to check against the population, with the population
child it is paired with (its "partner"):

* duplicates: the partner recorded again with a realistic difference (see DUPLICATE_KINDS);
* hard non-matches: a different child who looks like the partner (see NON_MATCH_KINDS).

Everything follows from the seed: the same arguments give the same records in the same order.
No identifiers (NHS number, UPN) are generated: when both records have one the app decides on
it alone, so the interesting case, and the one measured, is the match on names, date of birth
and postcode.
"""

import random
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate

from faker import Faker
from faker.providers.person.en_GB import Provider as EnGbNames
from faker.providers.person.en_IE import Provider as EnIeNames
from faker.providers.person.en_IN import Provider as EnInNames
from faker.providers.person.pl_PL import Provider as PlNames

# Children are 0 to 17 on this day; fixed so that the population does not change with the date.
REFERENCE_DATE = date(2026, 1, 1)
OLDEST = date(REFERENCE_DATE.year - 18, REFERENCE_DATE.month, REFERENCE_DATE.day) + timedelta(1)
DAYS = (REFERENCE_DATE - OLDEST).days


def _words(text: str) -> list[str]:
    return text.split()


# The most common first names registered in England and Wales in 2008-2023, most common first.
RECENT_BOYS = _words("""
Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry
William Freddie Alfie Theo Archie Joshua James Isaac Lucas Ethan Alexander Edward Max Samuel Daniel
Logan Joseph Harrison Finley Sebastian Mohammed Teddy Adam Dylan Riley Elijah Tommy Albie Reggie
Jaxon Benjamin Mason Harvey Louie Toby Jude Rory Ronnie Frankie Hugo Zachary Luca Tyler Ryan Kai
Ollie Jenson Lewis Jayden Callum Kian Liam Connor Alfred Finn Ellis Caleb Bobby""")
RECENT_GIRLS = _words("""
Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya
Florence Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper
Matilda Ruby Emilia Maya Millie Isabelle Eva Luna Jessica Layla Chloe Erin Esme Ellie Lucy Holly
Scarlett Megan Amber Hannah Lola Imogen Aria Bella Georgia Thea Violet Lottie Maisie Harriet Eliza
Darcie Ellie-May Lexi Molly Niamh Katie Lacey Summer Aisha Zara Maryam Nancy Orla Edith""")

# British short forms a family or a school may give instead of the registered name. Written for
# the benchmark from common usage, independently of the app's nickname data, so that the app
# is not marked on its own answers.
SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "Oliver": ("Ollie", "Olly"),
    "Henry": ("Harry", "Hal"),
    "Harrison": ("Harry",),
    "Jacob": ("Jake",),
    "Thomas": ("Tom", "Tommy"),
    "William": ("Will", "Billy", "Liam"),
    "Alfred": ("Alfie", "Alf"),
    "Theodore": ("Theo", "Teddy"),
    "Joshua": ("Josh",),
    "James": ("Jamie", "Jim", "Jimmy"),
    "Alexander": ("Alex", "Xander"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Samuel": ("Sam", "Sammy"),
    "Daniel": ("Dan", "Danny"),
    "Joseph": ("Joe", "Joey"),
    "Benjamin": ("Ben", "Benji"),
    "Frederick": ("Fred", "Freddie"),
    "Zachary": ("Zach", "Zac"),
    "Nicholas": ("Nick", "Nicky"),
    "Christopher": ("Chris", "Kit"),
    "Matthew": ("Matt",),
    "Michael": ("Mike", "Mikey"),
    "Robert": ("Rob", "Robbie", "Bob"),
    "Richard": ("Rich", "Richie"),
    "Jonathan": ("Jon", "Jonny"),
    "Anthony": ("Tony", "Ant"),
    "Andrew": ("Andy", "Drew"),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Timothy": ("Tim", "Timmy"),
    "Patrick": ("Paddy", "Pat"),
    "Nathan": ("Nate",),
    "Charles": ("Charlie",),
    "Sebastian": ("Seb",),
    "Ronald": ("Ronnie",),
    "Kenneth": ("Ken", "Kenny"),
    "Raymond": ("Ray",),
    "Leonard": ("Lenny",),
    "Lawrence": ("Laurie",),
    "Gregory": ("Greg",),
    "Dominic": ("Dom",),
    "Douglas": ("Doug",),
    "Albert": ("Albie", "Bert"),
    "Stanley": ("Stan",),
    "Bradley": ("Brad",),
    "Mitchell": ("Mitch",),
    "Francis": ("Frankie",),
    "Olivia": ("Liv", "Livvy"),
    "Amelia": ("Millie", "Amy"),
    "Isabella": ("Bella", "Izzy"),
    "Isabelle": ("Izzy", "Belle"),
    "Sophia": ("Sophie",),
    "Charlotte": ("Lottie", "Charlie"),
    "Florence": ("Flo", "Florrie"),
    "Emily": ("Em", "Emmy"),
    "Evelyn": ("Evie",),
    "Elizabeth": ("Beth", "Lizzie", "Libby"),
    "Matilda": ("Tilly",),
    "Imogen": ("Immy",),
    "Eleanor": ("Ellie", "Nell"),
    "Katherine": ("Kate", "Katie"),
    "Catherine": ("Kate", "Cath"),
    "Margaret": ("Maggie", "Meg"),
    "Harriet": ("Hattie",),
    "Victoria": ("Vicky", "Tori"),
    "Jessica": ("Jess",),
    "Rebecca": ("Becky", "Becca"),
    "Samantha": ("Sam",),
    "Alexandra": ("Alex", "Lexi"),
    "Georgina": ("Georgie", "Gina"),
    "Abigail": ("Abbie", "Abby"),
    "Natalie": ("Nat",),
    "Jennifer": ("Jen", "Jenny"),
    "Stephanie": ("Steph",),
    "Josephine": ("Josie", "Jo"),
    "Francesca": ("Fran", "Frankie"),
    "Deborah": ("Debbie",),
    "Jacqueline": ("Jackie",),
    "Amanda": ("Mandy",),
    "Susan": ("Sue", "Suzy"),
    "Danielle": ("Dani",),
    "Kimberley": ("Kim",),
    "Megan": ("Meg",),
    "Gabriella": ("Gabby",),
}


class _Weighted:
    """Names drawn with given weights; bisect on cumulative weights keeps a million draws fast."""

    def __init__(self, weights: dict[str, float]):
        self.names = list(weights)
        self._cumulative = list(accumulate(weights.values()))

    def draw(self, rng: random.Random) -> str:
        return self.names[bisect_left(self._cumulative, rng.random() * self._cumulative[-1])]


def _mixture(*parts: tuple[float, dict[str, float]]) -> _Weighted:
    """Pools of names, each given a share of the draws however many names it holds."""
    weights: dict[str, float] = {}
    for share, pool in parts:
        total = sum(pool.values())
        for name, weight in pool.items():
            weights[name] = weights.get(name, 0.0) + share * weight / total
    return _Weighted(weights)


def _uniform(names) -> dict[str, float]:
    return dict.fromkeys(names, 1.0)


def _by_rank(names: list[str]) -> dict[str, float]:
    return {name: 1.0 / (rank + 1) ** 0.4 for rank, name in enumerate(names)}


@dataclass(frozen=True)
class _Locale:
    name: str
    share: float
    boys: _Weighted
    girls: _Weighted
    families: _Weighted


LOCALES = (
    _Locale(
        "en_GB",
        0.85,
        _mixture((0.5, _by_rank(RECENT_BOYS)), (0.5, _uniform(EnGbNames.first_names_male))),
        _mixture((0.5, _by_rank(RECENT_GIRLS)), (0.5, _uniform(EnGbNames.first_names_female))),
        _mixture((0.55, dict(EnGbNames.last_names)), (0.45, _uniform(EnIeNames.last_names))),
    ),
    _Locale(
        "en_IE",
        0.05,
        _Weighted(_uniform(EnIeNames.first_names_male)),
        _Weighted(_uniform(EnIeNames.first_names_female)),
        _Weighted(_uniform(EnIeNames.last_names)),
    ),
    _Locale(
        "en_IN",
        0.06,
        _Weighted(_uniform(EnInNames.first_names_male)),
        _Weighted(_uniform(EnInNames.first_names_female)),
        _Weighted(_uniform(EnInNames.last_names)),
    ),
    _Locale(
        "pl_PL",
        0.04,
        _Weighted(_uniform(PlNames.first_names_male)),
        _Weighted(_uniform(PlNames.first_names_female)),
        _Weighted(_uniform(PlNames.unisex_last_names)),
    ),
)
_LOCALE_CHOICE = _Weighted({str(i): locale.share for i, locale in enumerate(LOCALES)})
# Surnames common enough that two unrelated children often share them with a given name.
COMMON_FAMILY_NAMES = frozenset(
    sorted(EnGbNames.last_names, key=EnGbNames.last_names.get, reverse=True)[:30]
)
COMMON_GIVEN_NAMES = frozenset(RECENT_BOYS[:20] + RECENT_GIRLS[:20])

# Children per household: ONS families with dependent children, rounded.
_HOUSEHOLD_SIZES = _Weighted({"1": 44, "2": 39, "3": 12, "4": 4, "5": 1})
_TWINS_SHARE = 0.03
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in the last two places of a postcode
_POSTCODE_SECTORS = 4_000


@dataclass(frozen=True, slots=True)
class Record:
    """A child as a coordinator records them; field names and values are the app's Child's."""

    given_name: str
    family_name: str
    date_of_birth: date
    gender: str  # "female" or "male", values of maf.cases.models.Gender
    postcode: str
    other_names: str = ""  # comma-separated, as the app stores them


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    record: Record
    partner: int  # index of the population child it is paired with
    duplicate: bool  # True: the same child as the partner; False: a different child
    kind: str


@dataclass(frozen=True)
class Dataset:
    population: list[Record]
    queries: list[LabelledQuery]


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)  # noqa: S311  (reproducible, not secret)
        faker = Faker("en_GB")
        faker.seed_instance(seed)
        sectors: set[str] = set()
        while len(sectors) < _POSTCODE_SECTORS:
            sectors.add(faker.postcode()[:-2])  # "LE11 3TU" -> "LE11 3"
        self.sectors = sorted(sectors)
        self.population: list[Record] = []
        self.locales = bytearray()  # the locale of each population child, for related names

    def postcode(self, avoid_sector: str | None = None) -> str:
        while True:
            sector = self.rng.choice(self.sectors)
            if sector != avoid_sector:
                return sector + "".join(self.rng.choices(_UNIT_LETTERS, k=2))

    def date_of_birth(self) -> date:
        return OLDEST + timedelta(days=self.rng.randrange(DAYS))

    def given_name(self, locale: _Locale, gender: str, avoid: set[str] = frozenset()) -> str:
        names = locale.girls if gender == "female" else locale.boys
        while True:
            name = names.draw(self.rng)
            if name not in avoid:
                return name

    def gender(self) -> str:
        return self.rng.choice(("female", "male"))

    def household(self, size: int) -> None:
        locale_index = int(_LOCALE_CHOICE.draw(self.rng))
        locale = LOCALES[locale_index]
        family, postcode = locale.families.draw(self.rng), self.postcode()
        births = [self.date_of_birth() for _ in range(size)]
        if size > 1 and self.rng.random() < _TWINS_SHARE:
            births[1] = births[0]
        given: set[str] = set()
        for born in births:
            gender = self.gender()
            name = self.given_name(locale, gender, avoid=given)
            given.add(name)
            self.population.append(Record(name, family, born, gender, postcode))
            self.locales.append(locale_index)

    def generate_population(self, children: int) -> None:
        while len(self.population) < children:
            size = min(int(_HOUSEHOLD_SIZES.draw(self.rng)), children - len(self.population))
            self.household(size)

    # --- differences a duplicate may carry -------------------------------------------------

    def typo(self, name: str) -> str:
        """One slip on a QWERTY keyboard: a neighbouring key, a letter left out or doubled, or
        two letters swapped. The first letter is usually right."""
        for _ in range(20):
            position = 0 if self.rng.random() < 0.1 else self.rng.randrange(1, len(name))
            letter = name[position]
            operation = self.rng.choice(("neighbour", "omit", "double", "swap"))
            if operation == "neighbour" and letter.lower() in _KEY_NEIGHBOURS:
                key = self.rng.choice(_KEY_NEIGHBOURS[letter.lower()])
                typed = name[:position] + (key.upper() if letter.isupper() else key)
                typed += name[position + 1 :]
            elif operation == "omit":
                typed = name[:position] + name[position + 1 :]
            elif operation == "double":
                typed = name[:position] + letter + name[position:]
            elif operation == "swap" and position + 1 < len(name):
                typed = name[:position] + name[position + 1] + letter + name[position + 2 :]
            else:
                continue
            if typed != name and typed.strip(" -'"):
                return typed
        raise ValueError(f"no typo found for {name!r}")

    def typo_in_name(self, record: Record) -> Record:
        if self.rng.random() < 0.5:
            return replace(record, given_name=self.typo(record.given_name))
        return replace(record, family_name=self.typo(record.family_name))

    def short_form(self, record: Record) -> Record:
        return replace(record, given_name=self.rng.choice(SHORT_FORMS[record.given_name]))

    def swapped_names(self, record: Record) -> Record:
        return replace(record, given_name=record.family_name, family_name=record.given_name)

    def changed_family_name(self, record: Record, locale: _Locale) -> Record:
        """A new family name (a parent's new partner, or the other parent's); sometimes the
        coordinator records the old one as a previous name."""
        while (family := locale.families.draw(self.rng)) == record.family_name:
            pass
        other_names = record.family_name if self.rng.random() < 0.3 else ""
        return replace(record, family_name=family, other_names=other_names)

    def day_month_swapped(self, record: Record) -> Record:
        born = record.date_of_birth
        return replace(record, date_of_birth=date(born.year, born.day, born.month))

    def date_of_birth_typo(self, record: Record) -> Record:
        """One digit of the date of birth mistyped as the key next to it (3 for 2 or 4)."""
        digits = record.date_of_birth.strftime("%Y%m%d")
        for _ in range(100):
            position = self.rng.randrange(len(digits))
            digit = int(digits[position]) + self.rng.choice((-1, 1))
            if not 0 <= digit <= 9:
                continue
            typed = digits[:position] + str(digit) + digits[position + 1 :]
            try:
                born = date(int(typed[:4]), int(typed[4:6]), int(typed[6:]))
            except ValueError:
                continue
            if OLDEST <= born < REFERENCE_DATE:
                return replace(record, date_of_birth=born)
        raise ValueError(f"no date of birth typo for {record.date_of_birth}")

    def moved(self, record: Record) -> Record:
        return replace(record, postcode=self.postcode(avoid_sector=record.postcode[:-2]))


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_NEIGHBOURS = {
    key: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    for row in _KEYBOARD_ROWS
    for i, key in enumerate(row)
}


def _swappable(record: Record) -> bool:
    born = record.date_of_birth
    return born.day <= 12 and born.day != born.month


def _typeable(record: Record) -> bool:
    return len(record.given_name) >= 3 and len(record.family_name) >= 3


# Each duplicate kind: (share of duplicates, does it apply to this partner, make the query).
_Maker = Callable[[_Generator, Record, _Locale], Record]
DUPLICATE_KINDS: dict[str, tuple[float, Callable[[Record], bool], _Maker]] = {
    "typo in a name": (0.18, _typeable, lambda g, r, _: g.typo_in_name(r)),
    "short form of given name": (
        0.14,
        lambda r: r.given_name in SHORT_FORMS,
        lambda g, r, _: g.short_form(r),
    ),
    "given and family names swapped": (0.10, bool, lambda g, r, _: g.swapped_names(r)),
    "changed family name": (0.14, bool, lambda g, r, loc: g.changed_family_name(r, loc)),
    "day and month of birth swapped": (
        0.10,
        _swappable,
        lambda g, r, _: g.day_month_swapped(r),
    ),
    "date of birth typo": (0.06, bool, lambda g, r, _: g.date_of_birth_typo(r)),
    "moved address": (0.11, bool, lambda g, r, _: g.moved(r)),
    "moved address and a typo": (
        0.05,
        _typeable,
        lambda g, r, _: g.moved(g.typo_in_name(r)),
    ),
    "moved address and a short form": (
        0.03,
        lambda r: r.given_name in SHORT_FORMS,
        lambda g, r, _: g.moved(g.short_form(r)),
    ),
    "moved address and changed family name": (
        0.03,
        bool,
        lambda g, r, loc: g.moved(g.changed_family_name(r, loc)),
    ),
    "moved address and a date of birth typo": (
        0.03,
        bool,
        lambda g, r, _: g.moved(g.date_of_birth_typo(r)),
    ),
    "moved address and day/month swapped": (
        0.03,
        _swappable,
        lambda g, r, _: g.moved(g.day_month_swapped(r)),
    ),
}


def _twin(g: _Generator, partner: Record, locale: _Locale) -> Record:
    """The partner's twin: same family name, birth date and postcode. A third of twins are
    given names with the same initial (Oliver and Olivia, Jack and Jake)."""
    gender = g.gender()
    if g.rng.random() < 1 / 3:
        for _ in range(200):
            name = g.given_name(locale, gender, avoid={partner.given_name})
            if name[0] == partner.given_name[0]:
                return replace(partner, given_name=name, gender=gender)
    name = g.given_name(locale, gender, avoid={partner.given_name})
    return replace(partner, given_name=name, gender=gender)


def _namesake(g: _Generator, partner: Record, _: _Locale) -> Record:
    """Another child with the same common name, born within a year of the partner, elsewhere."""
    while True:
        born = partner.date_of_birth + timedelta(days=g.rng.randint(-365, 365))
        if born != partner.date_of_birth and OLDEST <= born < REFERENCE_DATE:
            return replace(partner, date_of_birth=born, postcode=g.moved(partner).postcode)


def _sibling(g: _Generator, partner: Record, locale: _Locale) -> Record:
    """A brother or sister born one to five years apart, at the same address."""
    gender = g.gender()
    name = g.given_name(locale, gender, avoid={partner.given_name})
    while True:
        born = partner.date_of_birth + timedelta(
            days=g.rng.choice((-1, 1)) * g.rng.randint(300, 1900)
        )
        if OLDEST <= born < REFERENCE_DATE:
            return replace(partner, given_name=name, gender=gender, date_of_birth=born)


def _common_name(record: Record) -> bool:
    return record.given_name in COMMON_GIVEN_NAMES and record.family_name in COMMON_FAMILY_NAMES


NON_MATCH_KINDS: dict[str, tuple[float, Callable[[Record], bool], _Maker]] = {
    "twin": (0.4, bool, _twin),
    "same common name, different child": (0.4, _common_name, _namesake),
    "sibling at the same address": (0.2, bool, _sibling),
}


def _counts(total: int, kinds: dict) -> dict[str, int]:
    """Whole numbers of queries per kind, in the kinds' proportions, adding up to `total`."""
    counts = {kind: int(total * share) for kind, (share, _, _) in kinds.items()}
    for kind in list(kinds)[: total - sum(counts.values())]:
        counts[kind] += 1
    return counts


def generate(
    children: int = 1_000_000, duplicates: int = 2_000, non_matches: int = 1_000, seed: int = 9
) -> Dataset:
    """The population and the labelled queries; each population child is a partner once at
    most, so no query is paired with another query's partner."""
    generator = _Generator(seed)
    generator.generate_population(children)
    population, rng = generator.population, generator.rng
    order = list(range(children))
    rng.shuffle(order)
    used: set[int] = set()
    queries: list[LabelledQuery] = []
    for duplicate, kinds, total in (
        (True, DUPLICATE_KINDS, duplicates),
        (False, NON_MATCH_KINDS, non_matches),
    ):
        for kind, count in _counts(total, kinds).items():
            _, applies, make = kinds[kind]
            partners = (i for i in order if i not in used and applies(population[i]))
            for partner in _take(partners, count, kind):
                used.add(partner)
                locale = LOCALES[generator.locales[partner]]
                record = make(generator, population[partner], locale)
                queries.append(LabelledQuery(record, partner, duplicate, kind))
    return Dataset(population, queries)


def _take(partners, count: int, kind: str) -> list[int]:
    taken = [partner for partner, _ in zip(partners, range(count), strict=False)]
    if len(taken) < count:
        raise ValueError(f"the population is too small for {count} queries of kind {kind!r}")
    return taken
