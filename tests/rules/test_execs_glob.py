"""execs.has_glob / without_glob: the plain string tests that replaced the regex `[*?\\[]`
(compiled at every start before) answer exactly as it does, whatever the word."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrail.rules.execs import has_glob, token_reads, without_glob

GLOB = re.compile(r"[*?\[]")
# Words built from what matters to the regex (its three characters, `]`, `\\`, the other regex
# metacharacters) and from anything else, non-ASCII and surrogates included.
WORDS = st.text(st.one_of(st.sampled_from("*?[]\\^-.$/()|{}"), st.characters()), max_size=40)
ADVERSARIAL = ["", "*", "?", "[", "]", "\\[", "[]", "a]b", "^", "-", "/run/secrets/*/token",
               "tok\u0000en?", "\u017f*", "\U0001f600[", "\ud800?", "**??[[", "a\\*b", "[!a-z]"]


@given(WORDS)
@settings(max_examples=500)
def test_has_glob_answers_as_the_regex(word: str) -> None:
    assert has_glob(word) is (GLOB.search(word) is not None)
    assert without_glob(word) == GLOB.sub("", word)


def test_adversarial_words() -> None:
    for word in ADVERSARIAL:
        assert has_glob(word) is (GLOB.search(word) is not None), word
        assert without_glob(word) == GLOB.sub("", word), word


def test_globs_still_name_token_files() -> None:
    assert token_reads(("cat", "/var/run/secrets/kube*/serviceaccount/t*")) \
        == ["/var/run/secrets/kube*/serviceaccount/t*"]
    assert token_reads(("cat", "*/*")) == []
    assert token_reads(("ls", "/run/secrets/kubernetes.io/serviceaccount/ca.crt")) == []
