"""Bad answers are refused by the copier CLI with a message a person can act on."""

from pathlib import Path

import pytest

from tests.support.git_releases import copier, data_options

# (question, answer as typed after --data question=, words the message must hold)
REFUSED = [
    ("project_slug", "My Slug", "must match"),
    ("project_slug", "1abc", "must match"),
    ("author_email", "not-an-email", "e-mail address"),
    ("cors_origins", '["*"]', 'must not contain "*"'),
    ("cors_origins", '["not a url"]', "is not an origin"),
    ("cors_origins", '["https://a.com/path"]', "is not an origin"),
    ("cors_origins", '"https://a.com"', "must be a YAML list"),
    ("python_version", "3.10", "'3.10' is not in"),
]


def copier_copy(
    template: Path, destination: Path, uv_cache_dir: Path, **answers: str
) -> tuple[int, str]:
    """Run the copier CLI as a user would, with no terminal to prompt on."""
    result = copier(
        "copy",
        "--trust",
        "--defaults",
        *data_options(answers),
        str(template),
        str(destination),
        cwd=destination.parent,
        uv_cache_dir=uv_cache_dir,
        check=False,
    )
    return result.returncode, result.stdout


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [pytest.param(*case, id=f"{case[0]}={case[1]}") for case in REFUSED],
)
def test_bad_answer_is_refused(
    question: str,
    answer: str,
    reason: str,
    copier_template: Path,
    tmp_path: Path,
    uv_cache_dir: Path,
) -> None:
    destination = tmp_path / "service"
    returncode, output = copier_copy(
        copier_template, destination, uv_cache_dir, **{question: answer}
    )
    assert returncode == 1, output
    # The last line is what the user reads under copier's traceback.
    message = output.strip().splitlines()[-1]
    assert f"'{question}'" in message, output
    assert reason in message, output
    assert not destination.exists() or not any(destination.iterdir()), "nothing is rendered"


def test_defaults_render_without_prompting(
    copier_template: Path, tmp_path: Path, uv_cache_dir: Path
) -> None:
    destination = tmp_path / "service"
    returncode, output = copier_copy(copier_template, destination, uv_cache_dir)
    assert returncode == 0, output
    assert (destination / ".copier-answers.yml").is_file()
