"""Word lists the clinical lint reads with (our judgement; extend as needed).

Every list holds dictionary forms: the lint relates each word of a script to its dictionary
forms (:mod:`imr_audio.lint.text`), so ``grab`` also finds "grabbed" and "grabs", and
``child`` finds "children". The themes a client may avoid are in ``lint/themes.yaml``.
"""

from __future__ import annotations

__all__ = [
    "ANIMAL_WORDS",
    "BODY_PARTS",
    "CLINICAL_PLACES",
    "CONTACT_VERBS",
    "DESTROY_PARTICLES",
    "DESTROY_PHRASES",
    "DESTROY_VERBS",
    "DIAGNOSES",
    "FAMILY_IDIOMS",
    "FAMILY_WORDS",
    "FEAR_WORDS",
    "FIGURE_WORDS",
    "HARM_VERBS",
    "HARM_WORDS",
    "KEY_VERBS",
    "NAME_PLACE_WORDS",
    "PERSON_NOUNS",
    "PERSON_TARGETS",
    "POSSESSIVES",
    "PRACTICE_WORDS",
    "PURSUIT_VERBS",
    "STORE_WORDS",
    "STREET_WORDS",
    "THREAT_ADJECTIVES",
    "THREAT_PHRASES",
    "TITLES",
]

FAMILY_WORDS = frozenset({
    "mother", "mum", "mom", "mam", "mummy", "mommy", "mama", "mamma", "ma", "father", "dad",
    "daddy", "papa", "pa", "parent", "brother", "sister", "sibling", "grandmother", "grandma",
    "granny", "gran", "nan", "nana", "nanna", "grandfather", "grandad", "granddad", "grandpa",
    "grandparent", "aunt", "auntie", "aunty", "uncle", "cousin", "son", "daughter", "husband",
    "wife", "stepmother", "stepfather", "stepmum", "stepmom", "stepdad", "stepbrother",
    "stepsister", "niece", "nephew", "family", "grandson", "granddaughter", "grandchild",
    # clipped and borrowed forms, as clients say them: "your big sis", "me bruv", "Nonna"
    "sis", "bro", "bruv", "gramps", "grampa", "grandpop", "granda", "nonna", "nonno",
    "oma", "opa", "abuela", "abuelo", "mammy", "dada",
})
"""Close family: named anywhere in a home track they get a warning (mixed associations)."""

FAMILY_IDIOMS = (
    "mother nature", "mother earth", "grandfather clock", "family run", "family sized",
    "family size", "mother tongue", "mother ship", "sister ship", "mother of pearl",
    "family tree", "mother hen", "big brother", "father time", "father christmas",
)
"""Phrases with a family word that are not about a person."""

ANIMAL_WORDS = frozenset({
    "animal", "bird", "duck", "duckling", "swan", "cygnet", "goose", "gosling", "hen", "chick",
    "blackbird", "robin", "thrush", "sparrow", "owl", "deer", "fawn", "doe", "rabbit", "bunny",
    "hare", "fox", "cub", "bear", "badger", "hedgehog", "squirrel", "mouse", "cat", "kitten",
    "dog", "puppy", "pup", "horse", "foal", "pony", "cow", "calf", "sheep", "lamb", "ewe", "goat",
    "kid", "pig", "piglet", "seal", "whale", "dolphin", "otter", "frog", "tadpole", "fish",
    "butterfly", "bee", "ant", "elephant", "monkey", "lion", "tiger", "wolf", "chicken", "tree",
    "plant", "bud", "nest", "egg", "brood", "litter", "herd", "flock",
})
"""Animals and growing things: "a mother blackbird", "the rabbits and their mother"."""

PERSON_NOUNS = frozenset({
    "friend", "neighbour", "neighbor", "teacher", "partner", "boyfriend", "girlfriend",
    "colleague", "boss", "therapist", "counsellor", "counselor", "nurse", "doctor", "carer",
    "coach", "priest", "vicar", "godmother", "godfather", "fiancé", "fiance", "fiancée",
    "classmate", "flatmate", "housemate", "mentor", "tutor", *FAMILY_WORDS,
})
"""People from a client's life: one followed by a name is a named person."""

POSSESSIVES = frozenset({"your", "my", "his", "her", "their", "our"})
"""Possessive determiners: "your ankle", "his hand"."""

TITLES = frozenset({
    "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "rev", "reverend",
    "revd", "dame", "sir", "nurse", "sister", "father", "pastor", "rabbi", "imam", "dean",
})
"""Titles before a surname: "Dr Patel", "Mrs Okafor"."""

NAME_PLACE_WORDS = frozenset({
    "st", "saint", "lake", "loch", "mount", "mt", "river", "port", "fort", "cape", "glen", "ben",
    "north", "south", "east", "west", "upper", "lower", "great", "little", "new", "old", "bay",
    "park", "hill", "bridge", "castle", "island", "isle", "beach", "forest", "wood", "woods",
    "gardens", "garden", "house", "hall", "abbey", "cathedral", "church", "valley", "common",
    "heath", "head", "point", "sands", "water", "falls", "moor", "fell", "dale", "cove",
    "harbour", "pier", "street", "road", "lane", "avenue", "square", "green", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "christmas", "easter", "god", "i",
    # geographic features after a place's name ("the Amalfi Coast", "the Yorkshire Dales"),
    # not those that are common surnames too (Marsh, Shore, Hills)
    "coast", "desert", "canyon", "gorge", "mountains", "alps", "sea", "ocean", "gulf", "strait",
    "peninsula", "islands", "isles", "dales", "fells", "moors", "delta", "glacier", "fjord",
    "lagoon", "highlands", "lowlands", "riviera", "national",
})
"""Capitalised words of place names, months and days: not a person's name."""

STREET_WORDS = (
    "street", "st", "road", "rd", "lane", "ln", "avenue", "ave", "drive", "dr", "close",
    "crescent", "cres", "way", "gardens", "terrace", "place", "grove", "court", "ct", "square",
    "row", "mews", "walk", "parade", "boulevard", "blvd",
)
"""Street types after a street name: "Station Road", "27 Willow Crescent"."""

PRACTICE_WORDS = (
    "practice", "clinic", "surgery", "centre", "center", "hospital", "service", "services",
    "counselling", "counseling", "psychology", "psychotherapy", "therapy", "therapies",
    "wellbeing", "health", "medical", "associates", "partnership", "trust", "consulting",
)
"""Words that end a practice's name: "Northgate Psychology Practice"."""

CLINICAL_PLACES = frozenset({"clinic", "hospital", "nhs", "gp", "ward", "a&e", "surgery"})
"""Clinical places named in a script (a clinic or service name gives the client away)."""

DIAGNOSES = frozenset({
    "ptsd", "cptsd", "c-ptsd", "ocd", "bpd", "eupd", "adhd", "add", "asd", "gad", "mdd", "did",
    "dsm", "icd", "disorder", "diagnosis", "diagnose", "bipolar", "schizophrenia",
    "schizophrenic", "schizoaffective", "psychosis", "psychotic", "dissociative", "anorexia",
    "bulimia", "autism", "autistic", "agoraphobia", "depression",
})
"""Diagnoses; the acronyms count in capitals only, "depression" only as an illness."""

HARM_WORDS = frozenset({
    "perpetrator", "abuser", "attacker", "assailant", "rapist", "molester", "offender",
    "aggressor", "predator", "bully", "kidnapper", "intruder", "burglar", "murderer", "killer",
    "weapon", "knife", "gun", "pistol", "rifle", "blood", "bloody", "injury", "wound",
    "bruise", "violence", "violent", "abuse", "assault", "attack", "rape", "threat", "danger",
    "dangerous", "death", "die", "corpse", "nightmare", "monster", "demon", "torture",
    "murder", "kill", "stab", "strangle", "choke", "suffocate", "smother", "molest", "punch",
    "slap", "batter", "injure", "hurt", "harm", "threaten", "kidnap", "abduct", "beat up",
    "bleed", "scream at", "shout at", "yell at", "swear at",
})
"""Harm, perpetrator and injury words: any form of one is an error in a rescripting script."""

HARM_VERBS = frozenset({
    "grab", "seize", "snatch", "push", "shove", "pull", "drag", "yank", "pin", "shake", "hit",
    "beat", "kick", "strike", "smack", "whip", "throw", "hurl", "trip", "bite", "scratch",
    "lock", "tie", "corner", "trap", "chase", "follow", "stalk", "hunt", "pursue", "lunge",
    "pounce", "glare", "snarl", "growl", "loom", "creep", "sneak", "shout", "yell", "scream",
    "swear", "spit", "hold", "burn", "shoot", "touch", "grip", "squeeze", "force", "drown",
    "attack", "abuse", "hurt", "harm", "punch", "slap", "stab", "strangle", "choke", "kill",
    "slam", "stamp", "twist", "knock", "sting", "nip", "claw", "maul",
})
"""Actions that harm or threaten when done to a person ("grabs you", "pushed him")."""

CONTACT_VERBS = frozenset({
    "grab", "seize", "snatch", "push", "shove", "drag", "yank", "pin", "hit", "beat", "kick",
    "strike", "smack", "whip", "throw", "hurl", "bite", "scratch", "lock", "tie", "trap", "shake",
    "corner", "shoot", "burn", "force", "drown", "lunge", "pounce", "spit", "glare", "snarl",
    "growl", "shout", "yell", "scream", "swear", "slam", "stamp", "twist", "chase", "stalk",
    "hunt", "pursue", "knock", "sting", "nip", "claw", "maul",
})
"""The harm verbs that need only a person as object (pull, hold, touch need more)."""

PURSUIT_VERBS = frozenset({
    "follow", "chase", "stalk", "hunt", "pursue", "loom", "creep", "sneak", "watch", "wait",
    "lurk", "approach",
})
"""Actions that threaten when a figure does them to the listener ("someone follows you")."""

FIGURE_WORDS = frozenset({
    "man", "men", "stranger", "someone", "somebody", "figure", "shadow", "intruder", "monster",
    "creature", "beast", "gang", "voice", "footstep", "he", "she", "ghost", "wolf", "teacher",
    "car", "van", "truck", "lorry", "vehicle", "motorbike", "headlight",
})
"""Who a threat in a dream comes from (with a pursuit or harm action)."""

PERSON_TARGETS = frozenset({
    "you", "me", "him", "her", "them", "us", "yourself", "myself", "himself", "herself",
    "themselves", "child", "kid", "girl", "boy", "dreamer", "baby", "someone", "anyone",
})
"""Who harm is done to: the listener, the younger self, anyone."""

BODY_PARTS = frozenset({
    "arm", "wrist", "hair", "neck", "throat", "face", "head", "shoulder", "collar", "leg",
    "body", "ear", "mouth", "chest", "back", "finger", "foot", "toe", "stomach", "belly", "rib",
    "cheek", "nose",
})
"""Body parts that make an action a harm: "grabbed your arm"."""

THREAT_ADJECTIVES = frozenset({
    "menacing", "menacingly", "threatening", "threateningly", "sinister", "hostile",
    "aggressive", "vicious", "cruel", "evil", "scary", "frightening", "terrifying", "creepy",
    "furious", "angry", "angrily", "rage", "hooded", "masked", "sneering",
})
"""Threatening descriptions of a figure or a scene."""

FEAR_WORDS = frozenset({
    "afraid", "scared", "frightened", "terrified", "fear", "panic", "dread", "horror", "terror",
    "petrified",
})
"""Fear: a rescripting script holds no threat, not even one that is overcome."""

THREAT_PHRASES = (
    "footsteps behind", "run away", "ran away", "get away", "got away", "escape from",
    "hide from", "break in", "come after", "come for you", "came for", "what happened",
    "did to", "back then", "that night", "that day", "used to",
)
"""Phrases of escape, intrusion or retelling."""

STORE_WORDS = frozenset({
    "store", "keep", "hold", "stay", "remain", "wait", "safe", "lock away", "put away",
    "tuck away", "look after", "kept",
})
"""What says the container's contents are kept (stored, held, waiting until the session)."""

DESTROY_VERBS = frozenset({
    "destroy", "burn", "smash", "shred", "crush", "dissolve", "melt", "vanish", "disappear",
    "dispose", "erase", "delete", "incinerate", "explode", "obliterate", "annihilate",
    "evaporate", "disintegrate", "wipe out", "get rid of", "do away with", "break up",
})
"""Destroying the container or what is in it."""

DESTROY_PARTICLES = frozenset({
    "throw", "wash", "blow", "float", "drift", "fly", "sail", "carry", "send", "flush", "sink",
    "bury", "let",
})
"""Verbs that dispose of the contents with ``away``, ``off`` or ``out``, or forever."""

DESTROY_PHRASES = (
    "gone for good", "gone forever", "gone for ever", "no longer exist", "no longer there",
    "never come back", "never return", "lost forever", "into space",
    "into the sun", "into a volcano", "bottom of the sea", "bottom of the ocean",
    "bottom of the lake", "sink forever", "sink for ever", "drift forever", "float forever",
)
"""Phrases that say the contents are gone for good."""

KEY_VERBS = frozenset({"hold", "have", "keep", "carry", "own", "take", "look after", "get",
                       "share", "give", "hand", "leave"})
"""Who holds the key: "only you hold the key", "your therapist keeps the key"."""
