"""Words that open a phrase (conjunctions, relative words, prepositions), per language.

A cut just before one of them falls where a speaker may pause; :func:`voxclone.text.split.
split_first_phrase` uses them to end a stream's first chunk at a natural boundary.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Keyed by the first part of the canonical language code ("en-us" → "en").
PHRASE_STARTERS: dict[str, frozenset[str]] = {
    "en": _words(
        "and but or nor so yet because while when whenever where whereas although though if unless "
        "until till before after since that which who whom whose to of in on at by for with from into "
        "onto over under about across through during without within between among against along "
        "around behind beyond near towards toward than as like"
    ),
    "es": _words(
        "y e o u ni pero sino porque que cuando donde si aunque mientras como de del en con por para a "
        "al sin sobre desde hasta entre hacia durante"
    ),
    "fr": _words(
        "et ou mais donc car que qui quand où si lorsque comme de du des à au aux en dans avec pour par "
        "sur sans sous chez vers pendant depuis jusqu'à"
    ),
    "it": _words(
        "e ed o ma però perché che quando dove se mentre come di del della dei delle a al alla da dal "
        "in nel nella con su sul per tra fra senza verso durante"
    ),
    "pt": _words(
        "e ou mas porque que quando onde se enquanto como de do da dos das em no na nos nas com por "
        "pelo pela para a ao à sem sobre até entre durante"
    ),
    "hi": _words("और लेकिन पर परंतु किंतु क्योंकि कि जो जब तो या अगर यदि ताकि"),
}
# English words after which a phrase-opening word still belongs to the phrase before it
# ("out of", "due to", "because of").
NO_CUT_AFTER = _words("out ahead because instead rather such according due")

# Articles, possessives and other determiners: a weaker place to cut (between a verb and its
# object), used for a stream's first chunk when no phrase-opening word comes early enough.
DETERMINERS: dict[str, frozenset[str]] = {
    "en": _words("a an the this these those my your his her its our their every each some any no"),
    "es": _words("el la los las un una unos unas mi mis tu tus su sus nuestro nuestra cada"),
    "fr": _words(
        "le la les un une des mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs chaque"
    ),
    "it": _words("il lo la i gli le un uno una mio mia suo sua nostro nostra ogni"),
    "pt": _words("o a os as um uma uns umas meu minha seu sua nosso nossa cada"),
}
