"""``facecraft keys``: show which certificate signs, re-issue it from the kept local CA, sign as an
organisation; bad key files give one line and exit 2. Signed outputs are checked with ``verify``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facecraft.cli.main import main
from facecraft.provenance import label_image, verify
from facecraft.provenance.keys import CA_KEY_FILE, CERT_FILE, KEY_FILE, create_local_identity

PHOTO = "images/obama_4_small_320x240.jpg"


@pytest.fixture()
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv("FACECRAFT_SIGNER_CERT", raising=False)
    monkeypatch.delenv("FACECRAFT_SIGNER_KEY", raising=False)
    monkeypatch.setenv("USER", "tester")
    return tmp_path / "cfg"


def _signed_by(shared_data: Path, tmp_path: Path, name: str) -> str:
    out = tmp_path / name
    shutil.copy(shared_data / PHOTO, out)
    label_image(out, "swap", [out])
    manifest = verify(out).manifest
    assert manifest.valid, manifest.failures
    return manifest.signer


def _keys(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["keys", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_show_then_reissue_from_the_kept_ca(
    cfg: Path, tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _keys(capsys, "show")
    assert rc == 0 and "no signing identity yet" in out and not cfg.exists()
    _signed_by(shared_data, tmp_path, "first.jpg")  # the first labelled output makes the identity
    rc, out, _ = _keys(capsys, "show")
    assert rc == 0 and str(cfg / CERT_FILE) in out and "facecraft signer (tester)" in out
    assert "re-issue: facecraft keys reissue" in out
    ca_before, key_before = (cfg / "ca.pem").read_bytes(), (cfg / KEY_FILE).read_bytes()
    cert_before = (cfg / CERT_FILE).read_bytes()

    rc, out, _ = _keys(capsys, "reissue", "--keep-key")
    assert rc == 0 and "same key" in out
    assert (cfg / KEY_FILE).read_bytes() == key_before and (cfg / CERT_FILE).read_bytes() != cert_before
    rc, out, _ = _keys(capsys, "reissue")
    assert rc == 0 and "new key" in out and (cfg / KEY_FILE).read_bytes() != key_before
    assert (cfg / "ca.pem").read_bytes() == ca_before  # same CA, new signer
    assert (cfg / CERT_FILE).read_bytes().endswith(ca_before)  # chain: signer, then the CA
    assert (cfg / KEY_FILE).stat().st_mode & 0o077 == 0
    assert "facecraft signer (tester)" in _signed_by(shared_data, tmp_path, "second.jpg")


def test_sign_as_an_organisation_and_go_back(
    cfg: Path,
    tmp_path: Path,
    shared_data: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _signed_by(shared_data, tmp_path, "local.jpg")
    org = tmp_path / "org"
    org.mkdir()
    monkeypatch.setenv("USER", "Acme newsroom")  # an organisation's CA-issued certificate, made elsewhere
    create_local_identity(org / "chain.pem", org / "signer.key")
    monkeypatch.setenv("USER", "tester")

    rc, out, _ = _keys(capsys, "use-org", str(org / "chain.pem"), str(org / "signer.key"))
    assert rc == 0 and "Acme newsroom" in out and "not the local CA" in out
    assert (cfg / (CERT_FILE + ".local")).is_file() and (cfg / (KEY_FILE + ".local")).is_file()
    assert "Acme newsroom" in _signed_by(shared_data, tmp_path, "org.jpg")
    rc, _, err = _keys(capsys, "reissue")  # the local CA did not issue it: refuse, say what to do
    assert rc == 2 and err.count("\n") == 1 and "not issued by the local CA" in err

    (cfg / CERT_FILE).unlink()
    (cfg / KEY_FILE).unlink()
    rc, out, _ = _keys(capsys, "reissue")
    assert rc == 0 and "facecraft signer (tester)" in out
    assert "facecraft signer (tester)" in _signed_by(shared_data, tmp_path, "back.jpg")


def test_bad_key_files_give_one_line(
    cfg: Path, tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _signed_by(shared_data, tmp_path, "x.jpg")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    cases = [
        (("use-org", str(junk), str(cfg / KEY_FILE)), "not a PEM certificate chain"),
        (("use-org", str(cfg / CERT_FILE), str(tmp_path / "missing.key")), "does not exist"),
        (("use-org", str(cfg / CERT_FILE), str(junk)), "not an unencrypted PEM private key"),
        (("use-org", str(cfg / CERT_FILE), str(cfg / CA_KEY_FILE)), "does not belong"),
        (("use-org", str(cfg / "ca.pem"), str(cfg / CA_KEY_FILE)), "self-signed"),
    ]
    signer_before = (cfg / CERT_FILE).read_bytes()
    for args, message in cases:
        rc, _, err = _keys(capsys, *args)
        assert rc == 2 and err.count("\n") == 1 and message in err, (args, err)
    assert (cfg / CERT_FILE).read_bytes() == signer_before  # nothing installed

    (cfg / CA_KEY_FILE).write_text("garbage")
    rc, _, err = _keys(capsys, "reissue")
    assert rc == 2 and err.count("\n") == 1 and "ca.key" in err
    (cfg / CA_KEY_FILE).unlink()
    rc, _, err = _keys(capsys, "reissue")
    assert rc == 2 and "no local CA key" in err
    (cfg / KEY_FILE).write_text("garbage")
    rc, _, err = _keys(capsys, "show")
    assert rc == 2 and err.count("\n") == 1 and "signer.key" in err
