"""Words of the simulated streaming catalogue, and the titles and descriptions drawn from them.

Kept apart from :mod:`recsys_lessons.data.catalogue` so the generator reads as the generative
story it implements. :data:`GENRE_TEXT` and :data:`TAG_GENRES` also shape the story (genre
shares, partner genres, runtimes, which tags go with which genres); :func:`draw_titles`
turns word lists into readable titles ("The Silent Harbor", "Midnight Protocol 2") and
:func:`draw_descriptions` into one-line descriptions ("A mystery drama about ... in a small
coastal town").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "GENRES",
    "GENRE_TEXT",
    "INDEPENDENT_TAGS",
    "TAG_GENRES",
    "GenreText",
    "draw_descriptions",
    "draw_titles",
    "join_words",
]


@dataclass(frozen=True)
class GenreText:
    """Words that make titles and descriptions of one genre read like that genre, and the
    genre's place in the catalogue (how common it is, its partners, its runtime)."""

    share: float  # probability of being an item's primary genre
    partners: tuple[str, ...]  # genres it is often combined with
    modifier: str  # "mystery" in "a mystery drama"
    noun: str  # "drama" in "a mystery drama"
    runtime: int  # typical runtime in minutes
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    characters: tuple[str, ...]
    plots: tuple[str, ...]


#: Words and catalogue facts of each genre, in alphabetical order of the genres.
GENRE_TEXT = {
    "Action": GenreText(
        0.10, ("Adventure", "Thriller", "Sci-Fi", "Crime", "Comedy"), "action", "action film", 115,
        ("Iron", "Rogue", "Final", "Burning", "Rapid", "Fallen", "Steel", "Hard"),
        ("Strike", "Protocol", "Vendetta", "Pursuit", "Fury", "Extraction", "Siege", "Target"),
        ("an ex-soldier", "a getaway driver", "a rookie agent"),
        ("who must stop a plot against the city", "who is hunted after one last job goes wrong",
         "who fights back against a ruthless cartel", "who races to rescue a kidnapped partner"),
    ),
    "Adventure": GenreText(
        0.06, ("Action", "Fantasy", "Family", "Animation", "Comedy"), "adventure", "adventure", 118,
        ("Lost", "Golden", "Wild", "Distant", "Forgotten", "Endless", "Northern", "Sunken"),
        ("Expedition", "Compass", "Voyage", "Frontier", "Map", "Treasure", "Island", "Quest"),
        ("a reluctant explorer", "a young cartographer", "a retired sea captain"),
        ("who searches for a legendary lost city", "who crosses an uncharted desert",
         "who follows an old map to a hidden treasure", "who survives a shipwreck on a remote island"),
    ),
    "Animation": GenreText(
        0.03, ("Family", "Comedy", "Adventure", "Fantasy"), "animated", "animated film", 92,
        ("Little", "Brave", "Magic", "Tiny", "Curious", "Paper", "Bright", "Sleepy"),
        ("Fox", "Robot", "Dragon", "Lantern", "Kingdom", "Balloon", "Owl", "Garden"),
        ("a curious young fox", "a lonely little robot", "a clumsy dragon"),
        ("who sets out to find a new home", "who learns the true meaning of friendship",
         "who must save a magical forest", "who dreams of flying to the moon"),
    ),
    "Comedy": GenreText(
        0.15, ("Romance", "Drama", "Family", "Action", "Crime"), "comic", "comedy", 102,
        ("Crazy", "Awkward", "Perfect", "Accidental", "Big", "Lucky", "Terrible", "Last-Minute"),
        ("Wedding", "Weekend", "Roommates", "Vacation", "Reunion", "Plan", "Neighbors", "Party"),
        ("a hapless wedding planner", "an out-of-work actor", "a stand-up comedian"),
        ("who accidentally books two weddings on the same day",
         "who pretends to be someone else for a weekend",
         "whose family reunion spirals out of control", "who bets everything on a ridiculous plan"),
    ),
    "Crime": GenreText(
        0.06, ("Drama", "Thriller", "Mystery", "Action"), "crime", "crime story", 116,
        ("Dirty", "Cold", "Crooked", "Blind", "Black", "Broken", "Shadow", "Stolen"),
        ("Money", "Score", "Alibi", "Syndicate", "Ledger", "Witness", "Streets", "Job"),
        ("a small-time thief", "a disgraced police officer", "a mob accountant"),
        ("who plans one last heist", "who turns informant against the syndicate",
         "who is framed for a murder", "who gets caught between two rival gangs"),
    ),
    "Documentary": GenreText(
        0.05, ("Drama", "Crime", "Adventure"), "documentary-style", "documentary", 90,
        ("Hidden", "Living", "Secret", "Frozen", "Untold", "Vanishing", "Deep", "Human"),
        ("Ocean", "Planet", "Story", "Archive", "Harvest", "Voices", "Frontier", "Record"),
        ("a team of marine biologists", "a veteran war photographer", "a family of farmers"),
        ("who documents a vanishing way of life", "who follows the migration of whales",
         "who uncovers the story behind a forgotten scandal", "who spends a year in the Arctic"),
    ),
    "Drama": GenreText(
        0.18, ("Romance", "Crime", "Mystery", "Comedy", "Thriller"), "dramatic", "drama", 118,
        ("Quiet", "Long", "Broken", "Small", "Distant", "Fragile", "Last", "Gentle"),
        ("Harbor", "Summer", "Promise", "Letters", "House", "Season", "Years", "River"),
        ("a grieving widow", "an ageing pianist", "a young teacher"),
        ("who returns to a hometown left long ago", "who must choose between family and ambition",
         "who rebuilds a life after a devastating loss", "who forms an unlikely bond with a stranger"),
    ),
    "Family": GenreText(
        0.03, ("Animation", "Comedy", "Adventure", "Fantasy"), "family", "family film", 98,
        ("Great", "Happy", "Magical", "Runaway", "Big", "Amazing", "Holiday", "Secret"),
        ("Adventure", "Puppy", "Treehouse", "Christmas", "Camp", "Family", "Pony", "Club"),
        ("a spirited ten-year-old", "a single dad", "a talking dog"),
        ("who saves the family farm", "who discovers a secret world behind the garden wall",
         "who wins an unlikely talent contest", "who brings a divided family back together"),
    ),
    "Fantasy": GenreText(
        0.02, ("Adventure", "Animation", "Family", "Horror", "Romance"), "fantasy", "fantasy", 125,
        ("Crimson", "Enchanted", "Shattered", "Eternal", "Ancient", "Winter", "Silver", "Hollow"),
        ("Crown", "Throne", "Sword", "Prophecy", "Realm", "Sorceress", "Tower", "Oath"),
        ("an apprentice witch", "an exiled prince", "a young blacksmith"),
        ("who is destined to break an ancient curse", "who must reclaim a stolen crown",
         "who discovers a hidden gift for magic", "who journeys into a realm of spirits"),
    ),
    "Horror": GenreText(
        0.05, ("Thriller", "Mystery", "Sci-Fi", "Comedy"), "horror", "horror film", 98,
        ("Dark", "Hollow", "Dead", "Cursed", "Pale", "Bleeding", "Haunted", "Whispering"),
        ("House", "Woods", "Cellar", "Night", "Ritual", "Thing", "Doll", "Asylum"),
        ("a night-shift nurse", "a paranormal investigator", "a young babysitter"),
        ("who hears voices in an abandoned asylum", "who is stalked by something in the woods",
         "who awakens an ancient evil", "who moves into a house with a terrible past"),
    ),
    "Mystery": GenreText(
        0.05, ("Drama", "Thriller", "Crime", "Horror"), "mystery", "mystery", 110,
        ("Silent", "Missing", "Seventh", "Midnight", "Vanishing", "Locked", "Forgotten", "Hidden"),
        ("Key", "Witness", "Clue", "Letter", "Room", "Garden", "Affair", "Manor"),
        ("a retired detective", "an amateur sleuth", "a young journalist"),
        ("who investigates a disappearance", "who uncovers a buried family secret",
         "who solves a murder in a locked room", "who follows a trail of anonymous letters"),
    ),
    "Romance": GenreText(
        0.07, ("Drama", "Comedy", "Fantasy"), "romantic", "romance", 108,
        ("Sweet", "Second", "Endless", "Parisian", "Summer", "Unexpected", "Tender", "Starlit"),
        ("Love", "Kiss", "Heart", "Chance", "Affair", "Serenade", "Promise", "Romance"),
        ("a bookshop owner", "a travelling musician", "a wedding photographer"),
        ("who falls for a rival", "who gets a second chance at first love",
         "who writes letters to a stranger", "who must choose between two suitors"),
    ),
    "Sci-Fi": GenreText(
        0.06, ("Action", "Thriller", "Adventure", "Horror"), "sci-fi", "science-fiction film", 120,
        ("Quantum", "Dark", "Orbital", "Synthetic", "Silent", "Infinite", "Binary", "Red"),
        ("Protocol", "Horizon", "Signal", "Colony", "Machine", "Station", "Paradox", "Star"),
        ("a stranded astronaut", "a rogue android", "a brilliant physicist"),
        ("who receives a signal from deep space", "who must prevent a time paradox",
         "who wakes up on a derelict starship", "who questions what it means to be human"),
    ),
    "Thriller": GenreText(
        0.09, ("Crime", "Mystery", "Action", "Drama", "Horror"), "suspenseful", "thriller", 112,
        ("Midnight", "Deadly", "Silent", "Final", "Hidden", "Fatal", "Cold", "Blind"),
        ("Protocol", "Game", "Hour", "Conspiracy", "Descent", "Hostage", "Deadline", "Witness"),
        ("a whistleblower", "a hostage negotiator", "an insomniac analyst"),
        ("who uncovers a conspiracy at the highest level", "who has one night to find a hostage",
         "who is drawn into a deadly game of cat and mouse", "who suspects a neighbour of murder"),
    ),
}  # fmt: skip

#: The 14 genres of the simulated catalogue, in alphabetical order.
GENRES = tuple(GENRE_TEXT)

#: Each tag and the genres it tends to appear with.
TAG_GENRES = {
    "twist ending": ("Mystery", "Thriller", "Horror"),
    "slow burn": ("Drama", "Thriller", "Mystery"),
    "feel-good": ("Comedy", "Family", "Romance"),
    "based on a true story": ("Drama", "Documentary", "Crime"),
    "strong female lead": ("Action", "Drama", "Sci-Fi"),
    "dark": ("Crime", "Thriller", "Horror"),
    "heist": ("Crime", "Action", "Comedy"),
    "time travel": ("Sci-Fi", "Fantasy", "Adventure"),
    "space": ("Sci-Fi", "Adventure", "Documentary"),
    "small town": ("Drama", "Mystery", "Comedy", "Horror"),
    "coming of age": ("Drama", "Comedy", "Family"),
    "friendship": ("Comedy", "Family", "Animation", "Drama"),
    "road trip": ("Comedy", "Adventure", "Drama"),
    "dystopia": ("Sci-Fi", "Action", "Thriller"),
    "detective": ("Mystery", "Crime"),
    "supernatural": ("Horror", "Fantasy", "Mystery"),
    "musical": ("Animation", "Romance", "Family", "Comedy"),
    "nature": ("Documentary", "Family", "Adventure", "Animation"),
    "history": ("Documentary", "Drama"),
    "war": ("Drama", "Action", "Documentary"),
    "sports": ("Drama", "Documentary", "Comedy", "Family"),
    "martial arts": ("Action",),
    "romantic comedy": ("Romance", "Comedy"),
    "political": ("Drama", "Thriller", "Documentary"),
    "cult classic": ("Horror", "Sci-Fi", "Comedy"),
    "visually stunning": ("Sci-Fi", "Fantasy", "Animation", "Adventure", "Documentary"),
    "quirky": ("Comedy", "Animation", "Romance"),
    "tearjerker": ("Drama", "Romance", "Family"),
    "survival": ("Adventure", "Thriller", "Action", "Horror"),
    "monsters": ("Horror", "Fantasy", "Sci-Fi", "Animation"),
    "true crime": ("Documentary", "Crime"),
    "festival favourite": ("Drama", "Documentary"),
    "dialogue-driven": ("Drama", "Comedy", "Romance"),
    "ensemble cast": ("Comedy", "Drama", "Crime"),
    "family-friendly": ("Family", "Animation"),
    "gritty": ("Crime", "Action", "Thriller"),
    "magic": ("Fantasy", "Animation", "Family"),
    "artificial intelligence": ("Sci-Fi", "Thriller"),
    "revenge": ("Action", "Thriller", "Crime"),
    "period piece": ("Drama", "Romance"),
}
#: Tags that independent titles are more likely to carry.
INDEPENDENT_TAGS = ("festival favourite", "slow burn", "dialogue-driven", "quirky")

_TITLE_ADJECTIVES = ("Silent", "Golden", "Last", "Broken", "Hidden", "Midnight", "Burning",
                     "Wild", "Lonely", "Secret", "Electric", "Crimson", "Velvet", "Frozen", "Bitter",
                     "Scarlet", "Restless", "Hollow", "Glass", "Savage")  # fmt: skip
_TITLE_NOUNS = ("Harbor", "Road", "Garden", "Echo", "Storm", "Line", "Light", "Shadow",
                "Winter", "City", "Bridge", "Sky", "Tide", "Mirror", "Frontier", "Orchard",
                "Signal", "Fever", "Crossing", "Hours")  # fmt: skip
_TITLE_PLACES = ("Avalon", "the North", "Ashford", "Kyoto", "the Deep", "Saint-Malo",
                 "Harrow Lane", "Red Creek", "Marrakesh", "the Lake", "Brighton", "Oslo",
                 "Valparaiso", "the Valley", "Dunmore", "Elm Street")  # fmt: skip
_TITLE_NAMES = ("Clara", "Eliza", "Tomas", "Nadia", "Oscar", "Mira", "Jonah", "Ines", "Felix",
                "Amara", "Leo", "Hana", "Ruth", "Malik", "Greta", "Sol")  # fmt: skip
_SETTINGS = ("in a small coastal town", "in near-future Tokyo", "in 1970s Berlin",
             "on a remote Scottish island", "in the Arizona desert", "in a crumbling Venetian palace",
             "aboard a night train to Istanbul", "in modern-day Lagos",
             "in a snowbound mountain village", "in the suburbs of Melbourne", "in post-war London",
             "on the streets of Mexico City")  # fmt: skip


def join_words(*parts) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars (``np.strings.add`` chained)."""
    line = np.asarray(parts[0])
    for part in parts[1:]:
        line = np.strings.add(line, part)
    return line


def draw_titles(rng, primary: np.ndarray, release_day: np.ndarray) -> np.ndarray:
    """Readable titles from per-genre and shared word lists.

    Each title is "The {adjective} {noun}", "{adjective} {noun}", "{noun} of {place}" or
    "{name}'s {noun}" (probabilities 0.35, 0.25, 0.2, 0.2); the adjective and the noun come
    from the primary genre's words half of the time. Repeated titles become sequels
    ("Midnight Protocol 2"), numbered in order of release.

    Parameters
    ----------
    rng : numpy.random.Generator
    primary : ndarray of int, shape ``(n,)``
        Primary genre of each item (position in :data:`GENRES`).
    release_day : ndarray of int, shape ``(n,)``
        Release day of each item, to number sequels.
    """
    n = len(primary)
    texts = list(GENRE_TEXT.values())
    genre_adjectives = np.array([t.adjectives for t in texts])
    genre_nouns = np.array([t.nouns for t in texts])
    own_words = rng.random((2, n)) < 0.5
    adjective = np.where(
        own_words[0], _pick(rng, genre_adjectives, primary), rng.choice(_TITLE_ADJECTIVES, n)
    )
    noun = np.where(own_words[1], _pick(rng, genre_nouns, primary), rng.choice(_TITLE_NOUNS, n))
    place = rng.choice(_TITLE_PLACES, n)
    name = rng.choice(_TITLE_NAMES, n)
    adjective_noun = join_words(adjective, " ", noun)
    candidates = np.stack(
        [
            join_words("The ", adjective_noun),
            adjective_noun,
            join_words(noun, " of ", place),
            join_words(name, "'s ", noun),
        ]
    )
    pattern = rng.choice(len(candidates), size=n, p=[0.35, 0.25, 0.2, 0.2])
    titles = candidates[pattern, np.arange(n)]
    frame = pd.DataFrame({"title": titles, "day": release_day, "position": np.arange(n)})
    instalment = frame.sort_values(["day", "position"]).groupby("title").cumcount().sort_index()
    suffix = np.where(instalment > 0, " " + (instalment + 1).astype(str), "")
    return join_words(titles, suffix.astype(str))


def draw_descriptions(rng, primary, secondary, has_secondary) -> np.ndarray:
    """One line per item such as "A mystery drama about a retired detective who ... in ...".

    Parameters
    ----------
    rng : numpy.random.Generator
    primary, secondary : ndarray of int, shape ``(n,)``
        Primary and second genre of each item (positions in :data:`GENRES`).
    has_secondary : ndarray of bool, shape ``(n,)``
        Whether the second genre qualifies the kind ("a mystery drama" or "a drama").
    """
    texts = list(GENRE_TEXT.values())
    modifier = np.array([t.modifier + " " for t in texts])[secondary]
    kind = join_words(
        np.where(has_secondary, modifier, ""), np.array([t.noun for t in texts])[primary]
    )
    article = np.where(np.isin(np.strings.slice(kind, 0, 1), list("aeiou")), "An ", "A ")
    character = _pick(rng, np.array([t.characters for t in texts]), primary)
    plot = _pick(rng, np.array([t.plots for t in texts]), primary)
    setting = rng.choice(_SETTINGS, len(primary))
    return join_words(article, kind, " about ", character, " ", plot, " ", setting, ".")


def _pick(rng, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One random entry of ``table[row]`` for each row index."""
    return table[rows, rng.integers(0, table.shape[1], size=len(rows))]
