"""Red flags: messages that describe an emergency, in English and Spanish.

Checked before any FAQ answer, so a visitor who mentions losing bladder
control in the middle of a heat question gets emergency advice, not heat tips.
We would rather send a few people to the urgent path needlessly than miss one,
but everyday FAQ questions must stay quiet, so:

1. the message is normalised (``chatbot.bot.text.normalize``: lower case, accents and
   punctuation gone), so "¿Perdí el control?" reads "perdi el control";
2. long words with a typo are snapped to a small vocabulary of emergency words
   with rapidfuzz (Damerau-Levenshtein, same first letter, 1 edit up to 8
   letters, 2 beyond), so "bladdr", "paralized", "sucide" are read right;
   short words are not corrected (too many real words lie one edit apart:
   never/fever, hecho/pecho) and their common misspellings sit in the patterns;
3. known harmless phrases are blanked out ("chest of drawers", "fall asleep",
   "in the fall", "caída del cabello"...);
4. word patterns per category are tried in a fixed priority order; patterns
   that are plain nouns ("fever", "chest pain", "accident") are skipped when a
   negation stands just before them ("no fever", "sin fiebre").
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from chatbot.bot.text import MAX_SCAN_CHARS, normalize

CATEGORIES = (
    "self_harm",
    "chest_breathing",
    "stroke",
    "headache",
    "bladder_bowel",
    "saddle_numbness",
    "sudden_weakness",
    "trauma",
    "fever",
)


@dataclass(frozen=True)
class RedFlag:
    """Why a message was taken for an emergency."""

    category: str  # one of CATEGORIES
    phrase: str  # the words of the message (normalised) that triggered it


# --- building blocks (all on normalised text: [a-z0-9 ] only) -------------------------------------

CANT = r"(?:can ?t|cannot|can not|could ?nt|couldn ?t|could not|unable to|not able to|can no longer|no longer able to)"
NO_PUEDO = r"(?:no (?:puedo|pude|puede|podia|consigo|logro)|sin poder|imposible|incapaz de)"
LIMBS = r"(?:legs?|arms?|feet|foot|hands?|limbs?|knees?|toes|lower body|body)"
LOWER = r"(?:legs?|feet|foot|toes|lower body)"
PIERNAS = r"(?:piernas?|brazos?|pies?|manos?|rodillas?|extremidades|cuerpo)"
BLADDER = r"(?:bladd?e?r|bladdar|bowels?|bowles|bowls?)"
BREATH = r"bre+a?th\w*"
CHEST = r"che?st"
PAIN = r"p[ai]{2}n\w*"  # pain, pians, painful
ZONE_EN = (
    r"(?:groin|crotch|genitals?|genital area|privates|private (?:parts|area|region)|inner thighs?|thighs?|"
    r"buttocks?|butt|my (?:bottom|bum|behind)|perineum|perineal area|between (?:my|the) legs|rectum|rectal area|"
    r"pelvis|pelvic area|saddle(?: area)?|down there)"
)
NUMB_EN = (
    r"(?:numb\w*|no (?:feeling|sensation)|can ?t feel|cannot feel|lost (?:all )?(?:feeling|sensation)|"
    r"loss of (?:feeling|sensation)|tingl\w*|pins and needles|anaesthesia|anesthesia)"
)
ZONE_ES = (
    r"(?:ingles?|entrepierna|genitales|zona (?:genital|intima|del perine\w*)|partes intimas|muslos?|gluteos?|"
    r"nalgas?|perine\w*|recto|pelvis|trasero|silla de montar)"
)
NUMB_ES = (
    r"(?:entumec\w*|adormec\w*|dormid[oa]s?|insensib\w*|sin (?:sensibilidad|sensacion|sentir)|no siento|"
    r"perdida de (?:la )?sensibilidad|perdi (?:la )?sensibilidad|hormigue\w*|acorchad\w*|anestesi\w*|cosquilleo)"
)


def gap(n: int) -> str:
    """Up to ``n`` words in between."""
    return rf"(?:\w+ ){{0,{n}}}"


# Each category: (always, negatable). Negatable patterns are nouns a visitor may deny ("no fever").
PATTERNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "self_harm": (
        (
            r"su[iy]?[cs]id\w*",
            r"(?:kill|killing|kil|end|ending) (?:my ?self|my self)",
            r"(?:kill|killing|end|ending|take|taking) my (?:own )?life|end it all",
            r"(?:harm|harming|cut|cutting) (?:my ?self|my self)|self (?:harm\w*|injur\w*)",
            rf"(?:want|wanna|wana|going|thinking|thoughts?|urges?|tempted|plan|planning) {gap(2)}"
            r"(?:hurt|hurting|harm|harming|kill|killing) (?:my ?self|my self)",
            rf"(?:want|wanna|wana|wish|wished|ready|rather|prefer) {gap(2)}"
            r"(?:to )?(?:die|be dead|not wake up|not be alive)",
            r"better off dead|no reason to live|nothing to live for|not worth living|no point (?:in )?living",
            r"don ?t want to (?:live|be alive|wake up|go on)|can ?t go on living|overdos\w*",
            r"life (?:is not|isn ?t|ain ?t) worth",
            r"matarme|me (?:quiero|voy a) matar|quitarme la vida|(?:acabar|terminar) con (?:mi vida|todo)",
            r"(?:quiero|ganas de|prefiero|preferiria) morir\w*|me quiero morir|mejor muert[oa]s?",
            r"no quiero (?:seguir )?viv\w*|sin ganas de vivir|no vale la pena vivir|no tiene sentido vivir",
            r"(?:hacerme|hacerse) dano|lastimarme a (?:mi|proposito)|quiero lastimarme|autolesi\w*|sobredosis",
            r"cortarme(?! (?:el|la|las|los) (?:pelo|cabello|unas|barba|flequillo))",
            r"(?:goodbye|farewell|suicide) (?:notes?|letters?)|wrote (?:a|my) (?:last )?(?:note|letter) to (?:my )?"
            r"(?:family|kids|wife|husband)|(?:standing|stand|sitting|am) on (?:the|a) (?:edge|ledge|bridge|roof)|"
            r"how many (?:\w+ ){0,2}(?:pills|tablets|tylenol|advil|sleeping pills|meds|painkillers) (?:it )?"
            r"(?:would|will|does it) (?:it )?take|"
            r"enough (?:\w+ ){0,2}(?:pills|tablets|tylenol|meds|painkillers) (?:to|in|at|saved)|"
            r"(?:took|take|taking|got|get|have|holding|loaded|load|bought|buy) (?:\w+ ){0,3}"
            r"(?:gun|pistol|rifle|firearm)s?"
            r"(?! (?:range|license|show|safety class))|won ?t be (?:around|here) (?:to|much|anymore|for)|"
            r"cuantas pastillas (?:\w+ ){0,2}(?:necesito|harian falta|hacen falta)|"
            r"(?:saque|tengo|compre|cargue) (?:\w+ ){0,3}(?:pistola|arma|escopeta|rifle)|no voy a estar (?:aqui|para)|"
            r"cartas? de despedida|nota de despedida|(?:parad[oa]|estoy) (?:en|sobre) (?:el|un) (?:puente|borde|techo)",
        ),
        (),
    ),
    "chest_breathing": (
        (
            rf"{CANT} {gap(1)}(?:{BREATH}|catch my {BREATH}|get (?:enough )?air)",
            rf"(?:trouble|difficulty|difficult|hard|struggl\w*|problems?|hurts?|painful) {gap(2)}(?:{BREATH}|get air)",
            rf"(?:{BREATH}) {gap(2)}(?:difficult\w*|hard|labou?red|problems?|trouble|shallow|stopp\w*)",
            r"suffocat\w*|gasping|wheez\w*|turning blue",
            rf"{NO_PUEDO} {gap(1)}respir\w*|me (?:ahogo|estoy ahogando|asfixio)|ahogand\w*|asfixi\w*",
            rf"(?:cuesta|dificultad|dificil|problemas?|trabajo|duele) {gap(2)}respir\w*",
        ),
        (
            rf"{CHEST} {gap(2)}(?:{PAIN}|hurt\w*|tight\w*|pressure|ache\w*|aching|discomfort|squeez\w*|heav\w*|"
            r"burning|crushing|pounding)",
            rf"(?:{PAIN}|hurts?|hurting|tightness|pressure|ache|aching|discomfort|squeezing|crushing|heaviness) "
            rf"{gap(4)}{CHEST}",
            rf"short(?:ness)? of (?:{BREATH}|air)|out of {BREATH}|breathless\w*",
            r"he?art? at+a?c?k\w*|cardiac arrest",
            rf"(?:dolor\w*|duele|opresion|presion|ardor|punzadas?|pinchazos?|molestias?|aprieta) {gap(4)}pecho",
            rf"pecho {gap(2)}(?:duele|dolor|aprieta|apretado|oprim\w*|presion|pesado|ardor|quema)",
            r"(?:me )?falta\w* (?:el )?(?:aire|aliento)|falta de (?:aire|aliento)|sin (?:aire|aliento)",
            r"ataque (?:al |de )?corazon|ataque cardiaco|infarto|paro cardi\w*",
        ),
    ),
    "stroke": (
        (
            rf"strokes?(?! of (?:luck|genius))|(?:face|mouth|smile) {gap(2)}(?:droop\w*|drooping|sagging|crooked|numb)|"
            rf"(?:slurr\w*|garbled) {gap(1)}(?:speech|words|talk\w*)|(?:speech|words) {gap(2)}slurr\w*",
            rf"(?:one|left|right) side of (?:my|his|her|the) (?:body|face) {gap(3)}(?:weak\w*|numb\w*|droop\w*|"
            r"paraly\w*|not working)",
            r"(?:derrame|infarto) cerebral|accidente cerebrovascular|ictus|embolia|"
            rf"(?:cara|boca) {gap(2)}(?:caida|torcida|chueca|paralizada|dormida)|"
            r"(?:arrastr\w*|trab\w*) (?:las )?palabras|no puedo hablar bien|habla arrastrada|no me salen las palabras|"
            r"(?:durmio|dormido|dormida|entumecio|paralizo|adormecio) (?:la |el )?(?:mitad|lado) (?:del|de mi|de la) "
            r"(?:cuerpo|cara)|"
            rf"(?:mitad|lado) (?:del|de mi) (?:cuerpo|cara) {gap(2)}"
            r"(?:dormid\w*|entumec\w*|paraliz\w*|debil|sin fuerza)|"
            rf"(?:half|side) of (?:my|his|her|the) (?:body|face) {gap(2)}(?:numb|asleep|weak|paraly\w*|droop\w*)",
        ),
        (),
    ),
    "headache": (
        (
            rf"(?:worst|worse|most painful|biggest) {gap(2)}headache {gap(2)}(?:of )?(?:my|his|her) "
            r"(?:life|entire life)",
            rf"(?:sudden|suddenly|explosive|thunderclap|exploding) {gap(3)}(?:headache|head ache|migraine)",
            r"headache (?:hit|came on|started) (?:like|out of nowhere|all at once|suddenly)",
            r"(?:headache|head ache|head pain|pain in my head) (?:\w+ )?(?:out of nowhere|all of a sudden)",
            r"never (?:had|felt) (?:a )?(?:headache|head pain|pain in my head) like this|"
            r"nunca (?:habia tenido|he tenido|tuve) un dolor de cabeza (?:asi|como este|igual)",
            rf"(?:peor|mas fuerte) dolor de cabeza {gap(2)}(?:de )?(?:mi|su) vida",
            rf"dolor de cabeza {gap(2)}(?:repentino|subito|explosivo|de golpe|como un trueno|como un rayo)",
            rf"(?:de repente|de golpe|repentinamente) {gap(3)}dolor de cabeza",
        ),
        (),
    ),
    "bladder_bowel": (
        (
            r"incontinen\w*",
            rf"{BLADDER} {gap(4)}(?:control\w*|leak\w*|accidents?|problems?|trouble|issues?|lost|gone|empty\w*|"
            r"retention|dysfunction)",
            rf"(?:control|leak\w*|accidents?|lost|lose|losing|loss|problems?|trouble|issues?|can ?t|cannot|empty) "
            rf"{gap(4)}{BLADDER}",
            rf"{CANT} {gap(3)}(?:hold|control|stop|feel|keep) {gap(3)}(?:pee\w*|urin\w*|poop\w*|poo|stool|wee|"
            r"piss\w*|bathroom|toilet)",
            r"(?:no|lost|losing|lose|loss of) control (?:of |over )?(?:my |the )?(?:pee\w*|urin\w*|poop\w*|stool)",
            rf"{CANT} {gap(2)}(?:pee|urinate|piss|poop|empty my {BLADDER}|go to the (?:bathroom|toilet))",
            rf"{CANT} (?:tell|feel|sense) when (?:i|I) (?:need|have) to (?:go|pee|poop|urinate)",
            r"(?:wet|peed|pee|peeing|pooped|poop|pooping|soiled|pissed|pissing|shit|shat) "
            r"(?:my ?self|my self|my (?:pants|bed|underwear)|the bed)",
            rf"(?:leak\w*|dribbl\w*) {gap(2)}(?:urine|pee|stool)|(?:urine|pee|stool) {gap(1)}leak\w*|"
            r"urinary retention|fa?ecal",
            rf"{NO_PUEDO} {gap(2)}(?:controlar|control|aguantar|retener|contener|sostener) {gap(4)}"
            r"(?:orin\w*|pis|pipi|ve[jg]i[gj]?a|esfinter\w*|intestin\w*|heces|caca|popo|(?:el|del) bano)",
            r"(?:perdi|pierdo|perdiendo|perdida de|perdida del|sin|falta de|no tengo|problemas? de|problemas? con) "
            r"(?:el )?control (?:de |del |sobre )?(?:la |las |los |mis |mi )?"
            r"(?:orin\w*|ve[jg]i[gj]?a|esfinter\w*|intestin\w*|heces|evacuaciones)",
            r"me (?:he )?(?:orino|orine|orinado|orinando|meo|mee|meado|hago pis|hice pis|hago pipi|hice pipi|"
            r"hago encima|hice encima|cago encima|cague encima|hago caca|hice caca)",
            rf"{NO_PUEDO} {gap(1)}(?:orinar|hacer pis|hacer pipi|evacuar|defecar|vaciar la vejiga)",
            rf"(?:ve[jg]i[gj]?a|esfinter\w*) {gap(3)}(?:control|no funciona|falla\w*|problema\w*)",
            r"(?:escapes?|perdidas?|goteo) de orina|se me escapa (?:la )?(?:orina|pis|pipi)",
        ),
        (),
    ),
    "saddle_numbness": (
        (
            rf"{NUMB_EN} {gap(4)}{ZONE_EN}",
            rf"{ZONE_EN} {gap(3)}{NUMB_EN}",
            rf"{NUMB_ES} {gap(4)}{ZONE_ES}",
            rf"{ZONE_ES} {gap(3)}{NUMB_ES}",
        ),
        (),
    ),
    "sudden_weakness": (
        (
            rf"{CANT} {gap(2)}(?:move|lift|use|control|raise|bend) {gap(2)}{LIMBS}",
            rf"{CANT} {gap(2)}feel {gap(2)}{LOWER}",
            rf"(?:no|lost|losing|lose|loss of) (?:all )?(?:feeling|sensation|strength|control|movement) "
            rf"(?:in|of|on) {gap(2)}(?:{LOWER}|arms?|limbs?)",
            rf"{CANT} (?:walk|stand up|stand(?! (?:the|it|this|that|him|her|them)\b))",
            rf"(?:legs?|knees?) {gap(2)}(?:gave out|gave way|give out|giving out|giving way|gives out|buckl\w*|"
            r"collaps\w*|went limp|go limp|going limp|stopped working|stop working|won ?t (?:work|move|hold me)|"
            r"don ?t (?:work|move|respond|hold me)|not working|not moving)",
            r"paral[iy][sz]\w*|quadripleg\w*|parapleg\w*|foot drop|dragging my (?:foot|leg)",
            rf"(?:sudden|suddenly|all of a sudden) {gap(3)}(?:weak\w*|numb\w*|{CANT} move)",
            rf"{LOWER} {gap(2)}(?:weak|weaker|numb|limp|dead|heavy|like jelly)",
            rf"(?:weak\w*|numb\w*) {gap(2)}(?:in|of) {gap(2)}{LOWER}",
            rf"{NO_PUEDO} {gap(2)}(?:mover|levantar|usar|controlar|doblar|sentir) {gap(2)}{PIERNAS}",
            rf"no me (?:puedo|pude) (?:mover|levantar|parar)|{NO_PUEDO} moverme",
            rf"no (?:siento|sentia|senti) {gap(2)}(?:piernas?|pies?|cuerpo|cintura para abajo)",
            rf"{NO_PUEDO} (?:caminar|andar|pararme|levantarme|ponerme (?:de|en) pie|mantenerme en pie|sostenerme)",
            r"paralitic\w*",
            rf"(?:piernas?|rodillas?) {gap(2)}(?:fallaron|fallan|fallaban|cedieron|ceden|se doblaron|se doblan|"
            r"no (?:me )?responden|no me sostienen|no me aguantan|dejaron de funcionar|no funcionan|no se mueven)",
            rf"(?:fallaron|fallan|cedieron|se doblaron|se me doblaron|se me aflojaron) {gap(1)}(?:piernas|rodillas)",
            rf"(?:perdi|pierdo|perdiendo|perdida de|sin) (?:la |toda la |las )?(?:fuerza|fuerzas|sensibilidad|"
            rf"movilidad|movimiento) (?:en|de) {gap(2)}(?:piernas?|brazos?|pies?|extremidades)",
            rf"(?:de repente|repentinamente|subitamente|de golpe) {gap(4)}(?:debil\w*|sin fuerza|no puedo mover)",
            rf"(?:debilidad|entumecimiento|adormecimiento) {gap(2)}(?:repentin\w*|subit\w*|de repente|piernas?|pies)",
            rf"(?:piernas?|pies) {gap(2)}(?:debil\w*|dormidas?|entumecidas?|adormecidas?|sin fuerza|muertas?|"
            r"de trapo|de gelatina)",
        ),
        (),
    ),
    "trauma": (
        (),
        (
            r"accidents?|accidentes?",
            r"(?:car|auto|vehicle|motorcycle|motorbike|bike|bicycle|truck|bus|traffic|head on) "
            r"(?:crash\w*|wreck\w*|collision\w*)",
            r"(?:was|were|got|been|i m|im) in (?:a|an) (?:\w+ ){0,2}(?:crash|wreck|collision)",
            r"rear ended|t boned|hit by (?:a |an )?(?:car|truck|bus|vehicle|motorcycle|bike)|run over|ran over|"
            r"struck by|thrown from|ejected from",
            rf"(?:fell|fallen|falling|fall|slipped|slipping|tripped|tripping) {gap(2)}"
            r"(?:down|off|from|on|onto|over|out of|in the|at the|backwards?)\b",
            r"(?:i|he|she|we|they|my \w+) (?:\w+ ){0,2}(?:fell|fallen)"
            r"(?! (?:asleep|in love|for|behind|apart|short|ill|sick|silent|through|out(?! of)))",
            r"(?:had|took|suffered|after) (?:a |the )?(?:\w+ )?(?:fall|tumble)",
            r"(?:bad|hard|big|major|serious|nasty|terrible|huge|severe|awful|heavy) "
            r"(?:fall|crash|accident|injury|trauma|blow|impact|hit)",
            r"hit my (?:head|back|neck)|banged my head|knocked (?:out|unconscious)|lost consciousness|passed out|"
            r"blacked out|concussion|whiplash|head (?:injury|trauma)|spinal cord injury",
            r"broke my (?:back|neck|spine|ribs?|hip|pelvis)|broken (?:back|neck|spine|vertebra\w*|ribs?|bones?)|"
            r"fractur\w*|trauma\w*|gunshot|stabbed|assaulted|beat(?:en)? up",
            r"choque\w*|chocamos|choco|choqu\w*|colision\w*|volcadura|volque|atropell\w*|arrollad\w*|me chocaron",
            r"me (?:he )?(?:cai|caido|caigo)|se (?:ha )?(?:cayo|caido)|cai (?:de|por|desde|en|sobre)|"
            r"caidas?|caerme|cayendo",
            rf"(?:golpe|golpazo|trancazo|madrazo) {gap(2)}(?:fuerte|en la cabeza|en la espalda|en el cuello)",
            r"me (?:golpee|pegue) (?:\w+ )?(?:la cabeza|la espalda|el cuello)|me rompi|rotura de|conmocion|"
            r"perdi el conocimiento|me desmaye|latigazo",
            r"(?:fuerte|grave|mala|gran) (?:caida|golpe|accidente|lesion|choque)|lesion grave",
        ),
    ),
    "fever": (
        (),
        (
            r"fe+a?v[eaio]?r\w*|febrile|(?:high|running|have|had|got) a (?:high )?temp(?:erature)?(?! control)",
            r"high temp(?:erature)?(?! control)|temperature of \d+",
            r"chills|night sweats",
            r"fie+bre?s?|fiebr\w*|fiebe|febril\w*|calentura|temperatura (?:\w+ )?(?:alta|elevada)|escalofrio\w*|"
            r"sudores nocturnos",
        ),
    ),
}

# Harmless phrases that share words with the patterns; blanked out before matching.
BENIGN = re.compile(
    r"\b(?:"
    r"chests? of drawers|(?:treasure|tool|ice|hope|toy|cedar|war) chests?|chest (?:freezer|press\w*|fl(?:y|ies)|day)|"
    r"(?:fall|falls|falling|fell|fallen) asleep|"
    r"(?:in|this|last|next|every|during|early|late|until|by) (?:the )?fall|"
    r"fall (?:season|semester|term|collection|colou?rs?|leaves|foliage|festival|break|weather|allergies|fashion|sale)|"
    r"(?:fall|falls|falling|fell) (?:in love|for it|behind|apart|short|ill|sick|silent|into place)|"
    r"by accident|por accidente|(?:cabin|spring) fever|"
    r"(?:gives?|gave|giving|sends?|sent) me (?:the )?chills|chills down my spine|"
    r"caida (?:del|de la|de) (?:pelo|cabello|tarde|noche|bolsa|precios)|me (?:da|dan|dio) escalofrios|"
    # figures of speech
    r"(?:almost|nearly|about to) (?:had|have|gave me|give me|give) a heart attack|suicide squad|"
    r"(?:kids?|boss|job|work|traffic|taxes|paperwork|neighbou?rs?|husband|wife|you|this|that|it) "
    r"(?:is |are |was |were )?(?:giving|gave|gives|give) me a headache|"
    r"(?:legs?|arms?) (?:felt |feel |feeling |were |are )?like jelly after (?:my |the |a |that )?(?:\w+ ){0,2}"
    r"(?:class|workout|run|gym|hike|session|ride|day|swim|practice)|"
    r"(?:scared|bored|tired|worried|laughing|laughed) (?:my ?self )?to death|dead tired|dying (?:of|from) laughter|"
    r"(?:fell|falling|fall) (?:down|over|off (?:my|the) chair) laugh\w*|lost my breath laugh\w*|"
    r"me (?:caigo|estoy cayendo|cai) de (?:la )?(?:sueno|risa|cansancio)|"
    r"(?:me (?:muero|mori|estoy muriendo)|(?:me )?(?:quiero|queria|voy a) morir(?:me)?|morirme) de (?:la )?"
    r"(?:risa|ganas|hambre|sueno|calor|frio|verguenza|pena|aburrimiento)|"
    r"(?:could|gonna|going to|wanna|want to|about to|wanted to) die (?:of|from) (?:embarrassment|shame|laughter|"
    r"laughing|boredom|hunger|cringe)|"
    r"(?:golf|swim|swimming|tennis|paddle|rowing|brush|putting) strokes?|"
    r"strokes? of (?:luck|genius|midnight|the pen)|me ahog\w* en (?:\w+ )?(?:informacion|trabajo|papeles|deudas)|"
    r"paralizad[oa] (?:por|de) (?:la )?(?:indecision|miedo|nervios|duda)|me (?:rompi|rompo) la cabeza pensando|"
    r"casi me (?:da|dio) (?:un )?(?:infarto|ataque)|(?:me estoy )?asfixiando (?:de|con|en) (?:este|el|la|esta) calor"
    r")\b"
)

_NEGATORS = frozenset(
    "no not without never dont don didn didnt haven havent hasn hasnt isn isnt aren arent doesn doesnt "
    "sin nunca ni tampoco nada".split()
)
_CLAUSE_BREAKS = frozenset("but and although though however yet pero y aunque sino mas".split())

# Long emergency words whose misspellings we snap back before matching (see module docstring).
VOCABULARY = frozenset(
    "bladder bowels incontinence incontinent urinate urinating urination control myself numbness "
    "paralyzed paralysed paralysis breathe breathing breath shortness suicide suicidal accident "
    "weakness thighs saddle attack sensation stairs temperature feverish tingling "
    "vejiga incontinencia orinar orinarme controlar aguantar entumecida entumecido entumecimiento "
    "adormecida adormecido entrepierna piernas paralizado paralizada paralisis respirar corazon "
    "infarto accidente escaleras fiebre escalofrios suicidio suicidarme matarme quitarme morirme "
    "esfinteres sensibilidad caminar atropellado".split()
)
# A typo rarely hits the first letter; comparing only words that share it keeps "ladder" from becoming "bladder".
_BY_INITIAL = {
    initial: tuple(sorted(word for word in VOCABULARY if word[0] == initial))
    for initial in {word[0] for word in VOCABULARY}
}


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b") if patterns else None


# In priority order: the crisis line for self-harm wins over everything else.
_COMPILED = tuple(
    (category, _compile(PATTERNS[category][0]), _compile(PATTERNS[category][1])) for category in CATEGORIES
)


@functools.lru_cache(maxsize=8192)
def _correct(word: str) -> str:
    """``word``, or the emergency word it is a likely misspelling of."""
    if len(word) < 6 or word in VOCABULARY or not word.isalpha():
        return word
    candidates = _BY_INITIAL.get(word[0])
    if not candidates:
        return word
    max_edits = 1 if len(word) <= 8 else 2
    best = process.extractOne(word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=max_edits)
    return best[0] if best is not None else word


def _blank(match: re.Match[str]) -> str:
    """The same number of words, none of which any pattern uses, so word positions stay put."""
    return " ".join("x" * len(word) for word in match.group().split())


def without_benign(text: str) -> str:
    """``text`` normalised, with the harmless phrases (``BENIGN``) blanked out: for the semantic detector too."""
    return BENIGN.sub(_blank, normalize(text[:MAX_SCAN_CHARS]))


def _negated(words: list[str], start: int) -> bool:
    """True when one of the three words before ``start`` denies what follows ("no fever", "sin fiebre")."""
    for index in range(start - 1, max(start - 4, -1), -1):
        word = words[index]
        if word in _CLAUSE_BREAKS:
            return False
        if word in _NEGATORS:
            follower = words[index + 1]
            return not (word == "no" and follower in {"i", "im", "yo"})
    return False


class _Message:
    """A message prepared for matching: original words, corrected words, char offset of each word."""

    def __init__(self, text: str) -> None:
        self.original = normalize(text[:MAX_SCAN_CHARS]).split(" ")
        self.words = [_correct(word) for word in self.original]
        self.text = BENIGN.sub(_blank, " ".join(self.words))
        self.starts: list[int] = []
        offset = 0
        for word in self.words:
            self.starts.append(offset)
            offset += len(word) + 1

    def word_at(self, char: int) -> int:
        return bisect.bisect_right(self.starts, char) - 1

    def phrase(self, match: re.Match[str]) -> str:
        return " ".join(self.original[self.word_at(match.start()) : self.word_at(match.end() - 1) + 1])


def detect(text: str, categories: frozenset[str] | None = None) -> RedFlag | None:
    """The first red flag in ``text`` by category priority (of ``categories``, default all), or None.

    Never raises; bounded work on any input.
    """
    if not isinstance(text, str):
        return None
    message = _Message(text)
    for category, always, negatable in _COMPILED:
        if categories is not None and category not in categories:
            continue
        if always is not None:
            match = always.search(message.text)
            if match is not None:
                return RedFlag(category, message.phrase(match))
        if negatable is not None:
            for match in negatable.finditer(message.text):
                if not _negated(message.words, message.word_at(match.start())):
                    return RedFlag(category, message.phrase(match))
    return None


_EMERGENCY = {
    "en": (
        "What you describe may need urgent medical attention. Please call 911 (or your local emergency number, "
        "112 in much of Europe) or go to the nearest emergency room now. Please don't wait for a reply here."
    ),
    "es": (
        "Lo que describe puede necesitar atención médica urgente. Llame al 911 (o al número de emergencias de su "
        "país, el 112 en gran parte de Europa) o vaya ahora mismo a la sala de emergencias más cercana. "
        "No espere una respuesta aquí."
    ),
}
_CRISIS = {
    "en": (
        "I'm sorry you are going through this, and you don't have to face it alone. If you are thinking about "
        "hurting yourself or ending your life, please call or text 988 now to reach the 988 Suicide & Crisis "
        "Lifeline (US). If you are in immediate danger, call 911 (or your local emergency number, 112 in much "
        "of Europe) or go to the nearest emergency room."
    ),
    "es": (
        "Siento mucho que esté pasando por esto; no tiene que enfrentarlo solo. Si está pensando en hacerse "
        "daño o en quitarse la vida, llame o envíe un mensaje de texto al 988 ahora mismo: es la Línea 988 de "
        "Prevención del Suicidio y Crisis (988 Suicide & Crisis Lifeline, EE. UU.). Si está en peligro inmediato, "
        "llame al 911 (o al número de emergencias de su país, el 112 en gran parte de Europa) o vaya a la sala "
        "de emergencias más cercana."
    ),
}
_ALERTED = {
    "en": "I'm also alerting a member of our team right now.",
    "es": "También estoy avisando ahora mismo a una persona de nuestro equipo.",
}


def emergency_message(lang: str, flag: RedFlag) -> str:
    """What the bot says instead of an FAQ answer: where to get help now (no diagnosis), and that a person is coming.

    Unknown languages get English.
    """
    lang = lang if lang in _EMERGENCY else "en"
    advice = _CRISIS[lang] if flag.category == "self_harm" else _EMERGENCY[lang]
    return f"{advice} {_ALERTED[lang]}"
