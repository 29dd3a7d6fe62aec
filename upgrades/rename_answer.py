"""Rename a recorded answer in a project's answers file, before `copier update` reads it.

Usage: rename_answer.py ANSWERS_FILE OLD NEW

Copier runs this with its own interpreter, so it uses the standard library only. Answers
are top-level keys written one per line, so the rename is a line edit that keeps the rest
of the file as it was. It is idempotent: a file that already holds NEW is left alone.
"""

import re
import sys
from pathlib import Path


def rename(text: str, old: str, new: str) -> str:
    if re.search(rf"^{re.escape(new)}:", text, flags=re.MULTILINE):
        return text
    return re.sub(rf"^{re.escape(old)}:", f"{new}:", text, count=1, flags=re.MULTILINE)


def main() -> None:
    answers_file, old, new = sys.argv[1:]
    path = Path(answers_file)
    text = path.read_text(encoding="utf-8")
    renamed = rename(text, old, new)
    if renamed != text:
        path.write_text(renamed, encoding="utf-8")
        print(f"{answers_file}: answer {old} is now {new}")


if __name__ == "__main__":
    main()
