"""Word lists of the simulated streaming catalogue: genres, tags, titles and settings.

Kept apart from :mod:`recsys_lessons.data.catalogue` so the generator reads as the generative
story it implements; these are the words it draws readable titles ("The Silent Harbor") and
one-line descriptions ("A mystery drama about ... in a small coastal town") from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _GenreText:
    """Words that make titles and descriptions of one genre read like that genre."""

    share: float  # probability of being an item's primary genre
    partners: tuple[str, ...]  # genres it is often combined with
    modifier: str  # "mystery" in "a mystery drama"
    noun: str  # "drama" in "a mystery drama"
    runtime: int  # typical runtime in minutes
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    characters: tuple[str, ...]
    plots: tuple[str, ...]


_GENRE_TEXT = {
    "Action": _GenreText(
        0.10, ("Adventure", "Thriller", "Sci-Fi", "Crime", "Comedy"), "action", "action film", 115,
        ("Iron", "Rogue", "Final", "Burning", "Rapid", "Fallen", "Steel", "Hard"),
        ("Strike", "Protocol", "Vendetta", "Pursuit", "Fury", "Extraction", "Siege", "Target"),
        ("an ex-soldier", "a getaway driver", "a rookie agent"),
        ("who must stop a plot against the city", "who is hunted after one last job goes wrong",
         "who fights back against a ruthless cartel", "who races to rescue a kidnapped partner"),
    ),
    "Adventure": _GenreText(
        0.06, ("Action", "Fantasy", "Family", "Animation", "Comedy"), "adventure", "adventure", 118,
        ("Lost", "Golden", "Wild", "Distant", "Forgotten", "Endless", "Northern", "Sunken"),
        ("Expedition", "Compass", "Voyage", "Frontier", "Map", "Treasure", "Island", "Quest"),
        ("a reluctant explorer", "a young cartographer", "a retired sea captain"),
        ("who searches for a legendary lost city", "who crosses an uncharted desert",
         "who follows an old map to a hidden treasure", "who survives a shipwreck on a remote island"),
    ),
    "Animation": _GenreText(
        0.03, ("Family", "Comedy", "Adventure", "Fantasy"), "animated", "animated film", 92,
        ("Little", "Brave", "Magic", "Tiny", "Curious", "Paper", "Bright", "Sleepy"),
        ("Fox", "Robot", "Dragon", "Lantern", "Kingdom", "Balloon", "Owl", "Garden"),
        ("a curious young fox", "a lonely little robot", "a clumsy dragon"),
        ("who sets out to find a new home", "who learns the true meaning of friendship",
         "who must save a magical forest", "who dreams of flying to the moon"),
    ),
    "Comedy": _GenreText(
        0.15, ("Romance", "Drama", "Family", "Action", "Crime"), "comic", "comedy", 102,
        ("Crazy", "Awkward", "Perfect", "Accidental", "Big", "Lucky", "Terrible", "Last-Minute"),
        ("Wedding", "Weekend", "Roommates", "Vacation", "Reunion", "Plan", "Neighbors", "Party"),
        ("a hapless wedding planner", "an out-of-work actor", "a stand-up comedian"),
        ("who accidentally books two weddings on the same day",
         "who pretends to be someone else for a weekend",
         "whose family reunion spirals out of control", "who bets everything on a ridiculous plan"),
    ),
    "Crime": _GenreText(
        0.06, ("Drama", "Thriller", "Mystery", "Action"), "crime", "crime story", 116,
        ("Dirty", "Cold", "Crooked", "Blind", "Black", "Broken", "Shadow", "Stolen"),
        ("Money", "Score", "Alibi", "Syndicate", "Ledger", "Witness", "Streets", "Job"),
        ("a small-time thief", "a disgraced police officer", "a mob accountant"),
        ("who plans one last heist", "who turns informant against the syndicate",
         "who is framed for a murder", "who gets caught between two rival gangs"),
    ),
    "Documentary": _GenreText(
        0.05, ("Drama", "Crime", "Adventure"), "documentary-style", "documentary", 90,
        ("Hidden", "Living", "Secret", "Frozen", "Untold", "Vanishing", "Deep", "Human"),
        ("Ocean", "Planet", "Story", "Archive", "Harvest", "Voices", "Frontier", "Record"),
        ("a team of marine biologists", "a veteran war photographer", "a family of farmers"),
        ("who documents a vanishing way of life", "who follows the migration of whales",
         "who uncovers the story behind a forgotten scandal", "who spends a year in the Arctic"),
    ),
    "Drama": _GenreText(
        0.18, ("Romance", "Crime", "Mystery", "Comedy", "Thriller"), "dramatic", "drama", 118,
        ("Quiet", "Long", "Broken", "Small", "Distant", "Fragile", "Last", "Gentle"),
        ("Harbor", "Summer", "Promise", "Letters", "House", "Season", "Years", "River"),
        ("a grieving widow", "an ageing pianist", "a young teacher"),
        ("who returns to a hometown left long ago", "who must choose between family and ambition",
         "who rebuilds a life after a devastating loss", "who forms an unlikely bond with a stranger"),
    ),
    "Family": _GenreText(
        0.03, ("Animation", "Comedy", "Adventure", "Fantasy"), "family", "family film", 98,
        ("Great", "Happy", "Magical", "Runaway", "Big", "Amazing", "Holiday", "Secret"),
        ("Adventure", "Puppy", "Treehouse", "Christmas", "Camp", "Family", "Pony", "Club"),
        ("a spirited ten-year-old", "a single dad", "a talking dog"),
        ("who saves the family farm", "who discovers a secret world behind the garden wall",
         "who wins an unlikely talent contest", "who brings a divided family back together"),
    ),
    "Fantasy": _GenreText(
        0.02, ("Adventure", "Animation", "Family", "Horror", "Romance"), "fantasy", "fantasy", 125,
        ("Crimson", "Enchanted", "Shattered", "Eternal", "Ancient", "Winter", "Silver", "Hollow"),
        ("Crown", "Throne", "Sword", "Prophecy", "Realm", "Sorceress", "Tower", "Oath"),
        ("an apprentice witch", "an exiled prince", "a young blacksmith"),
        ("who is destined to break an ancient curse", "who must reclaim a stolen crown",
         "who discovers a hidden gift for magic", "who journeys into a realm of spirits"),
    ),
    "Horror": _GenreText(
        0.05, ("Thriller", "Mystery", "Sci-Fi", "Comedy"), "horror", "horror film", 98,
        ("Dark", "Hollow", "Dead", "Cursed", "Pale", "Bleeding", "Haunted", "Whispering"),
        ("House", "Woods", "Cellar", "Night", "Ritual", "Thing", "Doll", "Asylum"),
        ("a night-shift nurse", "a paranormal investigator", "a young babysitter"),
        ("who hears voices in an abandoned asylum", "who is stalked by something in the woods",
         "who awakens an ancient evil", "who moves into a house with a terrible past"),
    ),
    "Mystery": _GenreText(
        0.05, ("Drama", "Thriller", "Crime", "Horror"), "mystery", "mystery", 110,
        ("Silent", "Missing", "Seventh", "Midnight", "Vanishing", "Locked", "Forgotten", "Hidden"),
        ("Key", "Witness", "Clue", "Letter", "Room", "Garden", "Affair", "Manor"),
        ("a retired detective", "an amateur sleuth", "a young journalist"),
        ("who investigates a disappearance", "who uncovers a buried family secret",
         "who solves a murder in a locked room", "who follows a trail of anonymous letters"),
    ),
    "Romance": _GenreText(
        0.07, ("Drama", "Comedy", "Fantasy"), "romantic", "romance", 108,
        ("Sweet", "Second", "Endless", "Parisian", "Summer", "Unexpected", "Tender", "Starlit"),
        ("Love", "Kiss", "Heart", "Chance", "Affair", "Serenade", "Promise", "Romance"),
        ("a bookshop owner", "a travelling musician", "a wedding photographer"),
        ("who falls for a rival", "who gets a second chance at first love",
         "who writes letters to a stranger", "who must choose between two suitors"),
    ),
    "Sci-Fi": _GenreText(
        0.06, ("Action", "Thriller", "Adventure", "Horror"), "sci-fi", "science-fiction film", 120,
        ("Quantum", "Dark", "Orbital", "Synthetic", "Silent", "Infinite", "Binary", "Red"),
        ("Protocol", "Horizon", "Signal", "Colony", "Machine", "Station", "Paradox", "Star"),
        ("a stranded astronaut", "a rogue android", "a brilliant physicist"),
        ("who receives a signal from deep space", "who must prevent a time paradox",
         "who wakes up on a derelict starship", "who questions what it means to be human"),
    ),
    "Thriller": _GenreText(
        0.09, ("Crime", "Mystery", "Action", "Drama", "Horror"), "suspenseful", "thriller", 112,
        ("Midnight", "Deadly", "Silent", "Final", "Hidden", "Fatal", "Cold", "Blind"),
        ("Protocol", "Game", "Hour", "Conspiracy", "Descent", "Hostage", "Deadline", "Witness"),
        ("a whistleblower", "a hostage negotiator", "an insomniac analyst"),
        ("who uncovers a conspiracy at the highest level", "who has one night to find a hostage",
         "who is drawn into a deadly game of cat and mouse", "who suspects a neighbour of murder"),
    ),
}  # fmt: skip

#: The 14 genres of the simulated catalogue, in alphabetical order.
GENRES = tuple(_GENRE_TEXT)

#: Each tag and the genres it tends to appear with.
_TAG_GENRES = {
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
_INDEPENDENT_TAGS = ("festival favourite", "slow burn", "dialogue-driven", "quirky")

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
