"""The content library: the shipped YAML validates, lookups forgive typos, routines adapt."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from content.loader import (
    CONTENT_DIR,
    MAX_TEXT_CHARS,
    ROUTINE_TIERS,
    TIER_KEYS,
    Content,
    ContentError,
    closest_exercises,
    cross_training_line,
    default_content,
    find_exercise,
    format_exercise,
    format_library,
    load_content,
    posture_tip,
    return_to_run_text,
    routine_for,
    strength_week_text,
)

# CLINICAL.md's exercise table: name -> (dose, progression), copied character for character.
CLINICAL_DOSES = {
    "bird dog": ("10/side, 5 s hold", "10 s holds"),
    "dead bug": ("8–10/side", "slower, longer reach"),
    "side plank": ("10 s × 10/side", "straight legs, 30–60 s × 2–3"),
    "glute bridge": ("10 × 5 s hold", "single-leg 2–3 × 8–12"),
    "clamshell": ("3 × 12–15", "band → step-ups, single-leg deadlift"),
    "adductor squeeze": ("10 × 5–10 s", None),
    "piriformis stretch": ("30 s × 3/side daily", "longer holds"),
    "child's pose": ("30–60 s × 2", None),
    "foam rolling": ("30–120 s × 1–3", None),
}

MONDAY = date(2025, 3, 3)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def broken_copy(tmp_path: Path, filename: str, edit) -> Path:
    """Copy the shipped content to tmp_path and let `edit` change one file's parsed YAML."""
    directory = tmp_path / "content"
    directory.mkdir()
    for source in CONTENT_DIR.glob("*.yaml"):
        shutil.copy(source, directory / source.name)
    data = yaml.safe_load((directory / filename).read_text(encoding="utf-8"))
    edit(data)
    (directory / filename).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def week_of_routines(content: Content, tier: str, strength_week: int | None = None):
    return [routine_for(content, MONDAY + timedelta(days=i), tier, strength_week) for i in range(7)]


# --- the shipped content ----------------------------------------------------


def test_shipped_content_loads_and_the_default_is_loaded_once():
    first = default_content()
    assert first is default_content()
    assert len(first.exercises) == 9
    assert set(first.tiers) == set(TIER_KEYS)


def test_every_clinical_exercise_is_in_the_library_with_its_dose(content):
    for name, (dose, progression) in CLINICAL_DOSES.items():
        exercise = find_exercise(content, name)
        assert exercise is not None, name
        assert exercise.dose == dose
        if progression is not None:
            assert exercise.progression == progression


def test_library_mixes_core_mobility_and_release(content):
    categories = {ex.id: ex.category for ex in content.exercises}
    assert categories["bird_dog"] == "core"
    assert categories["hip_rotator_stretch"] == "mobility"
    assert categories["childs_pose"] == "mobility"
    assert categories["foam_rolling"] == "release"


def test_posture_tips_are_many_and_short(content):
    assert len(content.posture_tips) >= 12
    for tip in content.posture_tips:
        assert len(tip) <= 160
        assert tip.count(".") + tip.count("?") <= 2


def test_cross_training_covers_the_clinical_alternatives(content):
    names = {c.name.lower() for c in content.cross_training}
    for wanted in ("pool running", "stationary bike", "elliptical", "brisk walking", "swimming"):
        assert wanted in names
    for wanted in ("yoga", "pilates", "tai chi"):
        assert wanted in names


def test_disclaimer_and_rule_of_thumb_are_word_for_word(content):
    assert content.messages.disclaimer == (
        "I can't diagnose you or replace a physio or doctor. This is general training guidance."
    )
    assert content.messages.rule_of_thumb_note == (
        "This cut-off is our own rule of thumb, not a clinical threshold."
    )
    assert "NICE NG59" in content.messages.si_belt


def test_emergency_advice_starts_with_what_to_do(content):
    advice = content.tiers["emergency"].advice
    assert advice.startswith("Call emergency services")
    assert "Do not wait" in advice
    for hedge in ("might", "maybe", "perhaps", "consider"):
        assert hedge not in advice.lower()


def test_stress_fracture_message_says_stop_running_and_see_a_sports_doctor(content):
    advice = content.messages.sacral_stress_fracture.advice
    assert "Stop running" in advice
    assert "sports doctor within days" in advice


def test_no_medication_doses_anywhere():
    for path in CONTENT_DIR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        for word in (" mg", "ibuprofen", "paracetamol", "naproxen", "tablet"):
            assert word not in text, (path.name, word)


# --- validation errors ------------------------------------------------------


def test_a_missing_field_names_file_exercise_and_field(tmp_path):
    directory = broken_copy(tmp_path, "exercises.yaml", lambda d: d["exercises"][0].pop("dose"))
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    assert str(caught.value) == "exercises.yaml: exercise 'bird_dog': field 'dose': Field required"


def test_a_wrong_type_names_the_field(tmp_path):
    def minutes_as_words(data):
        data["exercises"][2]["minutes"] = "four"

    with pytest.raises(ContentError) as caught:
        load_content(broken_copy(tmp_path, "exercises.yaml", minutes_as_words))
    message = str(caught.value)
    assert message.startswith("exercises.yaml: exercise 'side_plank': field 'minutes': ")
    assert "integer" in message


def test_an_entry_without_an_id_is_named_by_its_index(tmp_path):
    directory = broken_copy(tmp_path, "exercises.yaml", lambda d: d["exercises"][1].pop("id"))
    with pytest.raises(ContentError, match=r"exercise at index 1: field 'id': Field required"):
        load_content(directory)


def test_an_unknown_key_is_refused(tmp_path):
    def add_colour(data):
        data["exercises"][3]["colour"] = "blue"

    with pytest.raises(ContentError) as caught:
        load_content(broken_copy(tmp_path, "exercises.yaml", add_colour))
    assert str(caught.value) == (
        "exercises.yaml: exercise 'glute_bridge': field 'colour': Extra inputs are not permitted"
    )


def test_a_duplicate_id_is_refused(tmp_path):
    def duplicate(data):
        data["exercises"][1]["id"] = "bird_dog"

    with pytest.raises(ContentError) as caught:
        load_content(broken_copy(tmp_path, "exercises.yaml", duplicate))
    assert str(caught.value).startswith("exercises.yaml: exercise 'bird_dog': field 'id':")
    assert "duplicate" in str(caught.value)


def test_an_alias_shared_by_two_exercises_is_refused(tmp_path):
    def share_alias(data):
        data["exercises"][1]["aliases"].append("Bird-Dog")

    with pytest.raises(ContentError) as caught:
        load_content(broken_copy(tmp_path, "exercises.yaml", share_alias))
    assert str(caught.value).startswith("exercises.yaml: exercise 'dead_bug': field 'aliases':")
    assert "bird_dog" in str(caught.value)


def test_a_missing_tier_is_refused(tmp_path):
    directory = broken_copy(tmp_path, "tiers.yaml", lambda d: d["tiers"].pop("improving"))
    with pytest.raises(ContentError, match=r"^tiers\.yaml: tier 'improving': missing"):
        load_content(directory)


def test_a_tier_without_advice_names_the_tier(tmp_path):
    directory = broken_copy(tmp_path, "tiers.yaml", lambda d: d["tiers"]["urgent"].pop("advice"))
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    assert str(caught.value) == "tiers.yaml: tier 'urgent': field 'advice': Field required"


def test_a_message_with_a_wrong_type_names_the_message(tmp_path):
    def title_as_number(data):
        data["building_baseline"]["title"] = 7

    with pytest.raises(ContentError) as caught:
        load_content(broken_copy(tmp_path, "messages.yaml", title_as_number))
    assert str(caught.value).startswith(
        "messages.yaml: message 'building_baseline': field 'title': "
    )


def test_strength_sets_outside_the_clinical_range_are_refused(tmp_path):
    def too_many_sets(data):
        data["weeks"][4]["sets"] = 5

    with pytest.raises(ContentError, match=r"^strength\.yaml: week '5': field 'sets': "):
        load_content(broken_copy(tmp_path, "strength.yaml", too_many_sets))


def test_a_missing_file_is_named(tmp_path):
    directory = broken_copy(tmp_path, "posture.yaml", lambda d: None)
    (directory / "posture.yaml").unlink()
    with pytest.raises(ContentError, match=r"^posture\.yaml: file not found"):
        load_content(directory)


def test_an_edited_copy_that_is_still_valid_loads(tmp_path):
    def rename(data):
        data["exercises"][0]["name"] = "Bird-dog reach"

    loaded = load_content(broken_copy(tmp_path, "exercises.yaml", rename))
    assert loaded.exercises[0].name == "Bird-dog reach"


# --- lookup -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("birddog", "bird_dog"),
        ("bird-dog", "bird_dog"),
        ("Bird Dog", "bird_dog"),
        ("bird_dog", "bird_dog"),
        ("  BIRD   dog ", "bird_dog"),
        ("childs pose", "childs_pose"),
        ("Child’s Pose", "childs_pose"),
        ("piriformis", "hip_rotator_stretch"),
        ("clamshells", "clamshell"),
        ("side-lying hip abduction", "clamshell"),
        ("foam roll", "foam_rolling"),
    ],
)
def test_person_finds_an_exercise_however_they_spell_it(content, typed, expected):
    found = find_exercise(content, typed)
    assert found is not None
    assert found.id == expected


def test_unknown_names_find_nothing(content):
    assert find_exercise(content, "plank") is None
    assert find_exercise(content, "") is None
    assert find_exercise(content, "---") is None


def test_plank_suggests_side_plank_first(content):
    names = closest_exercises(content, "plank")
    assert len(names) == 3
    assert names[0] == "Side plank"


def test_a_typo_suggests_the_right_exercise(content):
    assert closest_exercises(content, "brdge")[0] == "Glute bridge"
    assert closest_exercises(content, "dedbug")[0] == "Dead bug"
    assert closest_exercises(content, "clamshel", n=1) == ["Clamshell / side-lying hip abduction"]


# --- routines ---------------------------------------------------------------


def test_a_week_of_routines_is_10_to_15_minutes_and_varies(content):
    routines = week_of_routines(content, "none")
    for routine in routines:
        assert 10 <= routine.minutes <= 15
        categories = {item.exercise.category for item in routine.items}
        assert "core" in categories
        assert categories & {"mobility", "release"}
    selections = {tuple(item.exercise.id for item in r.items) for r in routines}
    assert len(selections) > 1


def test_the_same_date_gives_the_same_routine(content):
    day = date(2025, 6, 11)
    assert routine_for(content, day, "none") == routine_for(content, day, "none")


def test_routine_items_carry_the_library_dose(content):
    routine = routine_for(content, MONDAY, "improving")
    assert routine.items
    for item in routine.items:
        assert item.dose == item.exercise.dose
        assert f"{item.exercise.name}: {item.dose}" in routine.text()


def test_modify_swaps_the_run_for_rotating_low_impact_cross_training(content):
    routines = week_of_routines(content, "modify")
    low_impact = {c.name for c in content.cross_training if c.kind == "low_impact"}
    suggested = set()
    for routine in routines:
        assert 10 <= routine.minutes <= 15
        assert routine.swap_run is not None
        assert routine.swap_run in routine.text()
        suggested |= {name for name in low_impact if name in routine.swap_run}
    assert len(suggested) > 1
    assert routine_for(content, MONDAY, "none").swap_run is None


@pytest.mark.parametrize("tier", ["urgent", "emergency"])
def test_urgent_and_emergency_give_no_exercises_only_the_advice(content, tier):
    routine = routine_for(content, MONDAY, tier, strength_week=2)
    assert routine.items == ()
    assert routine.minutes == 0
    assert routine.strength is None
    assert content.tiers[tier].advice in routine.text()


def test_professional_gives_a_gentle_routine_and_says_book_a_physio(content):
    for routine in week_of_routines(content, "professional", strength_week=3):
        assert 10 <= routine.minutes <= 15
        assert all(item.exercise.gentle for item in routine.items)
        assert {item.exercise.category for item in routine.items} <= {"core", "mobility"}
        assert routine.strength is None
        assert "Book a physio" in routine.text()


def test_strength_week_is_appended_to_the_routine(content):
    routine = routine_for(content, MONDAY, "none", strength_week=4)
    assert routine.strength == strength_week_text(content, 4)
    assert "week 4 of 6" in routine.text()
    assert routine_for(content, MONDAY, "none").strength is None


def test_strength_block_runs_six_weeks_within_two_to_three_by_six_to_ten(content):
    weeks = content.strength_block.weeks
    assert [w.week for w in weeks] == [1, 2, 3, 4, 5, 6]
    for week in weeks:
        assert 2 <= week.sets <= 3
        assert 6 <= week.reps <= 10
    names = " ".join(ex.name.lower() for ex in content.strength_block.exercises)
    for lift in ("squat", "deadlift", "step up/down"):
        assert lift in names


def test_unknown_tier_or_strength_week_is_refused(content):
    with pytest.raises(ValueError, match="unknown tier"):
        routine_for(content, MONDAY, "panic")
    with pytest.raises(ValueError):
        routine_for(content, MONDAY, "none", strength_week=7)
    with pytest.raises(ValueError):
        strength_week_text(content, 0)


# --- rendered text ----------------------------------------------------------


def test_return_to_run_ladder_starts_with_the_walk_test_and_four_by_four(content):
    text = return_to_run_text(content)
    assert "30-minute brisk walk is pain-free" in text
    assert "Stage 1: walk 4 min / run 1 min × 4" in text
    assert "every other day" in text
    assert "No more than 4 runs a week" in text
    assert "2–3 times" in text
    last = content.return_to_run.stages[-1]
    assert last.walk_minutes == 0


def test_one_exercise_reads_as_numbered_steps_with_dose_and_caution(content):
    text = format_exercise(find_exercise(content, "dead bug"))
    assert text.startswith("Dead bug")
    assert "\n1. " in text
    assert "Dose: 8–10/side" in text
    assert "Harder: slower, longer reach" in text
    assert "Easier: " in text
    assert "Caution: " in text


def test_library_lists_every_exercise_on_its_own_line(content):
    text = format_library(content)
    for ex in content.exercises:
        assert sum(1 for line in text.splitlines() if line.startswith(f"- {ex.name} (")) == 1


def test_tips_rotate_and_wrap_around(content):
    count = len(content.posture_tips)
    assert posture_tip(content, 0) != posture_tip(content, 1)
    assert posture_tip(content, count) == posture_tip(content, 0)
    lines = {cross_training_line(content, n) for n in range(len(content.cross_training))}
    assert len(lines) == len(content.cross_training)
    assert cross_training_line(content, 0).startswith("Pool running: ")


def all_rendered_texts(content: Content) -> list[str]:
    texts = [format_library(content), return_to_run_text(content)]
    texts += [format_exercise(ex) for ex in content.exercises]
    texts += [strength_week_text(content, week) for week in range(1, 7)]
    texts += [posture_tip(content, n) for n in range(len(content.posture_tips))]
    texts += [cross_training_line(content, n) for n in range(len(content.cross_training))]
    for tier in ROUTINE_TIERS:
        for week in (None, 1, 6):
            texts += [r.text() for r in week_of_routines(content, tier, week)]
    return texts


def test_every_rendered_text_fits_in_one_chat_message(content):
    texts = all_rendered_texts(content)
    assert len(texts) > 100
    for text in texts:
        assert 0 < len(text) < MAX_TEXT_CHARS


def test_rendered_text_is_plain_without_markup(content):
    for text in all_rendered_texts(content):
        for markup in ("**", "__", "<b>", "`"):
            assert markup not in text
