"""Image references are checked against Docker's reference grammar before anything is queued."""

import pytest

from console.images.reference import InvalidReference, parse


@pytest.mark.parametrize(
    ("text", "name", "tag", "digest", "canonical"),
    [
        ("httpd", "httpd", "latest", "", "docker.io/library/httpd:latest"),
        ("httpd:2.4", "httpd", "2.4", "", "docker.io/library/httpd:2.4"),
        ("library/httpd:2.2", "httpd", "2.2", "", "docker.io/library/httpd:2.2"),
        ("docker.io/library/httpd", "httpd", "latest", "", "docker.io/library/httpd:latest"),
        ("index.docker.io/team/app:1", "team/app", "1", "", "docker.io/team/app:1"),
        ("team/app:1.0", "team/app", "1.0", "", "docker.io/team/app:1.0"),
        ("registry:5000/team/app:1.0", "registry:5000/team/app", "1.0", "", "registry:5000/team/app:1.0"),
        ("localhost/app", "localhost/app", "latest", "", "localhost/app:latest"),
        ("Registry.Example.com/a/b__c-d.e", "Registry.Example.com/a/b__c-d.e", "latest", "", None),
        ("[::1]:5000/app:v1_RC", "[::1]:5000/app", "v1_RC", "", "[::1]:5000/app:v1_RC"),
        ("127.0.0.1:5000/library/httpd:nope", "127.0.0.1:5000/library/httpd", "nope", "", None),
        ("httpd@sha256:" + "a" * 64, "httpd", "", "sha256:" + "a" * 64, "docker.io/library/httpd@sha256:" + "a" * 64),
        ("httpd:2.4@sha256:" + "0" * 64, "httpd", "2.4", "sha256:" + "0" * 64, None),
        ("app:" + "t" * 128, "app", "t" * 128, "", None),
    ],
)
def test_it_accepts_and_normalizes_references_docker_accepts(text, name, tag, digest, canonical):
    ref = parse(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    if canonical:
        assert ref.canonical == canonical


def test_it_says_when_the_default_tag_is_used():
    assert parse("httpd").default_tag is True
    assert str(parse("httpd")) == "httpd:latest"
    assert parse("httpd:latest").default_tag is False
    assert parse("httpd@sha256:" + "a" * 64).default_tag is False


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Enter an image reference"),
        ("Httpd", "Image names are lower case: write httpd, not Httpd."),
        ("team/App:1", "Image names are lower case: write team/app:1, not team/App:1."),
        ("httpd:", "the tag “” is not valid"),
        ("httpd:-1", "is not valid"),
        ("httpd:.x", "is not valid"),
        ("app:" + "t" * 129, "is not valid"),
        ("httpd:2.4 ", None),
        ("http d", "contains a space"),
        ("httpd@sha256:abc", "64 lowercase hexadecimal"),
        ("httpd@sha256:" + "A" * 64, "64 lowercase hexadecimal"),
        ("httpd@md5:" + "a" * 32, "must be sha256"),
        ("httpd@", "must be sha256"),
        ("team//app", "“” is not a valid repository name part"),
        ("team/app-", "is not a valid repository name part"),
        ("team/-app", "is not a valid repository name part"),
        ("team/a...b", "is not a valid repository name part"),
        ("team/a___b", "is not a valid repository name part"),
        ("reg-.com/app", "is not a valid registry host"),
        ("reg.com:x5/app", "is not a valid registry host"),
        (":2.4", "repository name is missing"),
        ("a" * 64, "looks like an image id"),
        ("a/" + "b" * 260, "longer than 255"),
    ],
)
def test_it_refuses_bad_references_with_a_reason(text, says):
    if says is None:  # surrounding spaces are trimmed, as a form would
        assert str(parse(text)) == "httpd:2.4"
        return
    with pytest.raises(InvalidReference) as caught:
        parse(text)
    assert says in str(caught.value)


def test_it_refuses_a_digest_where_only_a_tag_fits():
    with pytest.raises(InvalidReference, match="only name:tag"):
        parse("httpd@sha256:" + "a" * 64, allow_digest=False)
