"""Password policy: stricter than seed 001's (8+ characters with a letter, a digit and a special one), and
no password that is common, a dictionary word dressed up, a keyboard pattern or the user's own name: zxcvbn
estimates how guessable it is from the lists it ships (no network)."""

from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 12
#: zxcvbn's 0-4 scale: 3 is "safely unguessable" against an online attack and slows an offline one
MIN_SCORE = 3
#: zxcvbn refuses longer input; what follows 72 characters only adds to the strength
CHECKED_LENGTH = 72
GUESSABLE = "to be harder to guess (it is close to a common password, word, pattern or your own name)"


def password_problems(password: str, user_inputs: Iterable[str] = ()) -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if not any(c.isalpha() for c in password):
        problems.append("a letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    if all(c.isalnum() for c in password):
        problems.append("a special character")
    if not problems and zxcvbn(password[:CHECKED_LENGTH], user_inputs=list(user_inputs))["score"] < MIN_SCORE:
        problems.append(GUESSABLE)
    return problems
