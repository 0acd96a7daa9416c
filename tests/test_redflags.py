"""Red flags in free text: the corpus of phone-typed messages, and the reader's rules."""

from __future__ import annotations

import timeit
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot import redflags
from bot.redflags import Mention, Reading, mentions_belt, read
from bot.trends import SYMPTOMS, Tier

CORPUS_PATH = Path(__file__).parent / "redflag_corpus.yaml"
CODES = [s.code for s in SYMPTOMS]
EMERGENCY_CODES = {s.code for s in SYMPTOMS if s.tier == Tier.EMERGENCY}

MIN_RECALL = 0.98
MIN_PRECISION = 0.90


def _corpus() -> dict[str, list[dict]]:
    return yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))


CORPUS = _corpus()
ALL_ENTRIES = [(group, e) for group, entries in CORPUS.items() for e in entries]


def codes(text: str) -> set[str]:
    return set(read(text).codes)


def denied(text: str) -> set[str]:
    return {m.code for m in read(text).mentions if m.negated}


# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------


def test_the_corpus_is_big_and_covers_every_code():
    assert set(CORPUS) == {"positive", "negated", "ordinary"}
    assert len(ALL_ENTRIES) >= 300
    assert len(CORPUS["negated"]) >= 40
    assert len(CORPUS["ordinary"]) >= 80
    per_code = Counter(code for e in CORPUS["positive"] for code in e["codes"])
    for code in CODES:
        assert per_code[code] >= (12 if code in EMERGENCY_CODES else 6), code
    texts = [e["text"] for _, e in ALL_ENTRIES]
    assert len(texts) == len(set(texts)), "duplicate corpus lines"
    for group, e in ALL_ENTRIES:
        assert set(e["codes"]) <= set(CODES), e
        assert e["emergency"] == bool(set(e["codes"]) & EMERGENCY_CODES), e
        if group != "positive":
            assert e["codes"] == [], e


def _score() -> tuple[dict[str, Counter], list[str]]:
    counts: dict[str, Counter] = {code: Counter() for code in CODES}
    misses = []
    for group, e in ALL_ENTRIES:
        expected, got = set(e["codes"]), codes(e["text"])
        for code in expected & got:
            counts[code]["tp"] += 1
        for code in got - expected:
            counts[code]["fp"] += 1
        for code in expected - got:
            counts[code]["fn"] += 1
        if expected != got:
            misses.append(
                f"  [{group}] {e['text']!r}: expected {sorted(expected)}, got {sorted(got)}"
            )
    return counts, misses


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def test_recall_and_precision_over_the_corpus(capsys):
    counts, misses = _score()
    total = Counter()
    for c in counts.values():
        total.update(c)
    recall = _ratio(total["tp"], total["tp"] + total["fn"])
    precision = _ratio(total["tp"], total["tp"] + total["fp"])
    lines = [
        f"\nred-flag corpus: {len(ALL_ENTRIES)} messages",
        "code              recall  precision",
    ]
    for code in CODES:
        c = counts[code]
        r = _ratio(c["tp"], c["tp"] + c["fn"])
        p = _ratio(c["tp"], c["tp"] + c["fp"])
        lines.append(f"{code:<17} {r:6.3f}  {p:9.3f}")
    lines.append(f"{'overall':<17} {recall:6.3f}  {precision:9.3f}")
    if misses:
        lines.append("differences:")
        lines.extend(misses)
    # Shown in a plain `pytest -q` run too, not only with -s.
    with capsys.disabled():
        print("\n".join(lines))
    assert recall >= MIN_RECALL
    assert precision >= MIN_PRECISION


def test_denials_alone_never_bring_the_emergency_line():
    alarms = [e["text"] for e in CORPUS["negated"] if read(e["text"]).emergency]
    assert alarms == []


def test_denials_are_kept_as_negated_mentions():
    # The reader still says what was denied, so a reply can acknowledge it. A few denials
    # name nothing the vocabulary reads on its own ("didn't fall").
    kept = 0
    for e in CORPUS["negated"]:
        reading = read(e["text"])
        assert all(m.negated for m in reading.mentions), (e["text"], reading)
        kept += bool(reading.mentions)
    assert kept >= 0.9 * len(CORPUS["negated"])


@pytest.mark.parametrize("entry", CORPUS["positive"], ids=lambda e: e["text"][:40])
def test_the_emergency_line_follows_the_corpus(entry):
    assert read(entry["text"]).emergency == entry["emergency"]


# ---------------------------------------------------------------------------------------
# The public shapes
# ---------------------------------------------------------------------------------------


def test_a_reading_reports_codes_tier_and_emergency_from_reported_mentions_only():
    reading = read("No numbness but I peed myself")
    assert isinstance(reading, Reading)
    assert reading.codes == frozenset({"bladder_bowel"})
    assert reading.emergency
    assert reading.tier == Tier.EMERGENCY
    numb = [m for m in reading.mentions if m.code == "numb_one_leg"]
    assert numb == [Mention("numb_one_leg", Tier.URGENT, True, "numbness")]


def test_nothing_to_read():
    for text in ("", "   ", "4", "👍", "..."):
        reading = read(text)
        assert reading.mentions == ()
        assert reading.codes == frozenset()
        assert not reading.emergency
        assert reading.tier == Tier.NONE


def test_tier_is_the_highest_reported_tier():
    assert read("night sweats and can't walk the dog").tier == Tier.URGENT
    assert read("hurts when i hop").tier == Tier.PROFESSIONAL
    assert read("no fever, hurts when i hop").tier == Tier.PROFESSIONAL


def test_every_mention_carries_the_tier_of_its_screen_option():
    for _, e in ALL_ENTRIES:
        for m in read(e["text"]).mentions:
            assert m.tier == next(s.tier for s in SYMPTOMS if s.code == m.code)
            assert m.words


# ---------------------------------------------------------------------------------------
# Negation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("no numbness", "numb_one_leg"),
        ("not numb, just sore", "numb_one_leg"),
        ("without any leg weakness", "weak_one_leg"),
        ("never had cancer", "cancer_history"),
        ("no fever", "fever"),
        ("I don't have any numbness in my groin", "saddle"),
        ("haven't had any trouble peeing", "bladder_bowel"),
        ("my groin isn't numb", "saddle"),
        ("bladder and bowels are fine", "bladder_bowel"),
        ("numbness has gone", "numb_one_leg"),
        ("no fever, chills or night sweats", "fever"),
        ("zero tingling", "numb_one_leg"),
        ("denies saddle anaesthesia", "saddle"),
    ],
)
def test_negated(text, code):
    assert code in denied(text)
    assert code not in codes(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # The clause ends before the symptom: the negation does not reach it.
        ("No numbness but I peed myself", "bladder_bowel"),
        ("no fever. groin is numb", "saddle"),
        ("no pain at night and i wet myself", "bladder_bowel"),
        ("no idea why but my leg is numb", "numb_one_leg"),
        ("not sure if its normal, my groin is numb", "saddle"),
        # Too far from the symptom, over words that are not filler.
        ("no run today my groin is numb", "saddle"),
        ("no my groin is numb", "saddle"),
        # Negation words that are part of the report.
        ("I can't feel my groin", "saddle"),
        ("can't pee", "bladder_bowel"),
        ("no feeling in my bum", "saddle"),
        ("no control over my bladder", "bladder_bowel"),
        ("no morning wood for a week", "erection"),
        ("losing weight without trying", "weight_loss"),
    ],
)
def test_not_negated(text, code):
    assert code in codes(text)


def test_the_negation_window_is_a_few_filler_words():
    assert "numb_one_leg" in denied("no real noticeable numbness")
    assert "numb_one_leg" in denied("i have not had any numbness")
    # Six filler words is the reach; content words stop it at once.
    assert "numb_one_leg" in codes("no run but tingling")
    assert "numb_one_leg" in codes("no long run this week tingling in my foot")


# ---------------------------------------------------------------------------------------
# Vocabulary details
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("peed myself", "bladder_bowel"),
        ("can't feel my bum on the toilet seat", "saddle"),
        ("leg gave way", "leg_weakness"),
        ("came off my bike", "fall"),
        ("wet myself", "bladder_bowel"),
        ("leaked pee", "bladder_bowel"),
        ("groin feels dead", "saddle"),
        ("pins & needles in my groin", "saddle"),
        ("my legs are giving way", "leg_weakness"),
        ("my foot is dragging", "leg_weakness"),
        ("night sweats", "fever"),
        ("woke up from the pain", "night_pain"),
        ("bilateral leg pain", "both_legs"),
        ("incontinence", "bladder_bowel"),
        ("retention", "bladder_bowel"),
        ("saddle anaesthesia", "saddle"),
        ("saddle anesthesia", "saddle"),
        ("cauda equina", "saddle"),
        ("foot drop", "leg_weakness"),
        ("bilateral", "both_legs"),
        ("perineal numbness", "saddle"),
        ("tumour", "cancer_history"),
        ("tumor", "cancer_history"),
        ("my left leg feels weak", "weak_one_leg"),
        ("can't get it up", "erection"),
        ("both feet numb", "both_legs"),
        ("car accident", "fall"),
        ("hit by a car", "fall"),
        ("slipped on ice", "fall"),
        ("took a tumble", "fall"),
        ("crashed my bike", "fall"),
        ("can't put my socks on", "daily_activities"),
        ("pain when i hop", "hop_tender"),
        ("tender tailbone", "hop_tender"),
        ("unexplained weight loss", "weight_loss"),
        ("chemo", "cancer_history"),
        ("oncologist", "cancer_history"),
        ("feverish", "fever"),
        ("can't sleep for the pain", "night_pain"),
        ("worse lying down", "night_pain"),
    ],
)
def test_the_phrasings_named_in_the_spec(text, code):
    assert code in codes(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("nummness in my foot", "numb_one_leg"),
        ("numbnes", "numb_one_leg"),
        ("tingeling down my leg", "numb_one_leg"),
        ("incontinance", "bladder_bowel"),
        ("incontinece", "bladder_bowel"),
        ("temprature", "fever"),
        ("tempreture", "fever"),
        ("feaver", "fever"),
        ("trouble urinat", "bladder_bowel"),
        ("bladdr problems", "bladder_bowel"),
        ("weaknes in my leg", "weak_one_leg"),
        ("saddel numbness", "saddle"),
        ("errection problems", "erection"),
        ("bilatteral leg pain", "both_legs"),
        ("oncologyst", "cancer_history"),
    ],
)
def test_misspellings_of_long_words_are_read_as_the_word(text, code):
    assert code in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "I feel fine",
        "feel great",
        "fell asleep on the sofa",
        "this fall I want a marathon",
        "in the fall",
        "fall race next month",
        "last fall",
        "pain fell to 2",
        "fell race on the weekend",
        "paddle boarding",
        "crushed it",
        "skipped my run",
        "hoping to run",
        "cancelled the run",
        "the election",
        "an important race",
        "chilly morning",
        "temperatures in the 30s",
        "hopped on the bike",
        "feel feeling felt fill fail fall",
    ],
)
def test_short_and_everyday_words_stay_exact(text):
    assert codes(text) == set()


def test_a_real_fall_is_a_fall():
    assert codes("I fell") == {"fall"}
    assert codes("had a fall") == {"fall"}
    assert codes("fell on the ice this fall") == {"fall"}


def test_saddle_and_both_legs_take_the_numbness_words_as_their_own():
    assert codes("numb groin") == {"saddle"}
    assert codes("tingling in both legs") == {"both_legs"}
    assert codes("weakness in both legs") == {"both_legs"}
    # Severe weakness words are the emergency option, not the one-leg option.
    assert codes("my left leg keeps giving way") == {"leg_weakness"}
    assert codes("foot drop") == {"leg_weakness"}
    # A denied saddle report leaves a separate numb leg standing.
    assert codes("groin fine, leg numb") == {"numb_one_leg"}


def test_text_normalisation():
    assert codes("I can’t feel my groin") == {"saddle"}
    assert codes("I CANT FEEL MY GROIN!!!") == {"saddle"}
    assert codes("pins&needles in my groin 😭😭") == {"saddle"}
    assert codes("pins-and-needles  in\tmy   groin") == {"saddle"}
    # A new line is a new sentence.
    assert codes("no fever\ngroin numb") == {"saddle"}
    assert codes("numbness in my groin…") == {"saddle"}
    assert codes("bladder/bowel problems") == {"bladder_bowel"}
    # An emoji between clauses separates them like a comma.
    assert codes("no fever 🙂 peed myself") == {"bladder_bowel"}


def test_a_long_message_is_read_whole():
    text = ("ran 10k easy, legs fine, " * 75) + "and my groin is numb"
    assert len(text) > 1800
    assert codes(text) == {"saddle"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've started wearing an SI belt", True),
        ("my sacroiliac belt helps on long walks", True),
        ("should I get a support belt?", True),
        ("the pelvic belt from the physio", True),
        ("si joint belt", True),
        ("wearing my serola", True),
        ("seat belt rubbed on my hip", False),
        ("my running belt bounces", False),
        ("the belt of my trousers", False),
        ("ran 10k, pain 3", False),
    ],
)
def test_belt_mentions(text, expected):
    assert mentions_belt(text) is expected


# ---------------------------------------------------------------------------------------
# Loading and speed
# ---------------------------------------------------------------------------------------


def test_a_broken_vocabulary_names_the_file_and_the_entry(tmp_path):
    data = yaml.safe_load(redflags.VOCABULARY_PATH.read_text(encoding="utf-8"))
    data["symptoms"]["saddle"]["near"][0]["lists"][1] = "no_such_list"
    path = tmp_path / "red_flags.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"red_flags\.yaml: symptoms\.saddle\.near\[0\]"):
        redflags._load_vocabulary(path)


@pytest.mark.parametrize(
    ("edit", "entry"),
    [
        (lambda d: d["symptoms"].pop("fever"), "symptoms.fever"),
        (lambda d: d["symptoms"].update(gout={"any": ["gout"]}), "symptoms.gout"),
        (lambda d: d["lists"]["numb"].append(False), "lists.numb"),
        (lambda d: d["lists"]["numb"].append("pins-and-needles"), "lists.numb"),
        (lambda d: d["symptoms"]["fever"]["any"].append("/[/"), "symptoms.fever.any"),
        (lambda d: d["fuzzy"]["targets"].append("gout"), "fuzzy.targets"),
    ],
)
def test_broken_entries_are_named(tmp_path, edit, entry):
    data = yaml.safe_load(redflags.VOCABULARY_PATH.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "red_flags.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        redflags._load_vocabulary(path)
    assert str(caught.value).startswith(f"red_flags.yaml: {entry}")


def test_a_key_given_twice_is_refused(tmp_path):
    text = redflags.VOCABULARY_PATH.read_text(encoding="utf-8")
    path = tmp_path / "red_flags.yaml"
    path.write_text(text.replace("\nlists:\n", "\nlists:\n  numb: [numb]\n", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"red_flags\.yaml: not valid YAML: .*'numb' given twice"):
        redflags._load_vocabulary(path)


def test_a_phrase_across_a_clause_break_is_refused(tmp_path):
    data = yaml.safe_load(redflags.VOCABULARY_PATH.read_text(encoding="utf-8"))
    data["symptoms"]["fall"]["any"].append("fell but")
    path = tmp_path / "red_flags.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"red_flags\.yaml: symptoms\.fall\.any: 'fell but'"):
        redflags._load_vocabulary(path)


def test_not_yaml_at_all(tmp_path):
    path = tmp_path / "red_flags.yaml"
    path.write_text("lists: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match=r"red_flags\.yaml"):
        redflags._load_vocabulary(path)


def test_a_read_takes_well_under_a_millisecond(capsys):
    messages = [
        "ran 10k this morning, pain 3 after, bit stiff in the glutes but otherwise fine!!",
        "pain 6 today and my groin feels kind of numb, also peed myself a bit on the run",
        "no numbness or tingling, bladder and bowels fine, just sore after the long run 😣",
    ]
    for text in messages:
        read(text)  # warm the misspelling cache, as a running bot would be
    per_read = min(timeit.repeat(lambda: [read(t) for t in messages], number=200, repeat=5))
    per_read /= 200 * len(messages)
    with capsys.disabled():
        print(f"\nred-flag read: {per_read * 1e6:.0f} µs per ~90-character message")
    assert per_read < 0.001
