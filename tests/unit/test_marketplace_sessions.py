"""The marketplace's session cookie and form tokens: signed, bound, expiring, and rotation-safe."""

from pathlib import Path

from services.marketplace.sessions import SECRET_NAME, SessionSigner
from services.marketplace.sign_in import local_path
from shared.connectors.registry import secret_specs
from shared.security.secret_stores import EnvFileSecretStore
from shared.security.secrets import SecretProvider
from shared.settings import Settings


def signer_in(tmp_path: Path, ttl_s: int = 3600) -> tuple[SessionSigner, SecretProvider]:
    store = EnvFileSecretStore(Settings(secrets_dir=str(tmp_path)))
    provider = SecretProvider(store, secret_specs(), ttl_s=0, rotation_window_s=3600)
    return SessionSigner(provider, ttl_s), provider


async def test_a_signed_cookie_names_its_user(tmp_path: Path) -> None:
    signer, provider = signer_in(tmp_path)
    await provider.ensure_generated(SECRET_NAME)
    session = await signer.session_of(await signer.cookie_for("alice"))
    assert session is not None and session.user_id == "alice"


async def test_a_cookie_with_another_user_put_in_is_refused(tmp_path: Path) -> None:
    signer, provider = signer_in(tmp_path)
    await provider.ensure_generated(SECRET_NAME)
    alice = await signer.cookie_for("alice")
    mallory = await signer.cookie_for("mallory")
    spliced = f"{mallory.split('.')[0]}.{alice.split('.')[1]}"
    assert await signer.session_of(spliced) is None
    assert await signer.session_of("not-a-cookie") is None


async def test_an_expired_cookie_is_refused(tmp_path: Path) -> None:
    signer, provider = signer_in(tmp_path, ttl_s=-1)
    await provider.ensure_generated(SECRET_NAME)
    assert await signer.session_of(await signer.cookie_for("alice")) is None


async def test_cookies_signed_before_a_rotation_still_verify(tmp_path: Path) -> None:
    signer, provider = signer_in(tmp_path)
    await provider.ensure_generated(SECRET_NAME)
    before = await signer.cookie_for("alice")
    await provider.rotate(SECRET_NAME)
    assert await signer.session_of(before) is not None
    await provider.end_rotation_window(SECRET_NAME)
    assert await signer.session_of(before) is None


async def test_a_form_token_is_bound_to_what_the_form_was_rendered_for(tmp_path: Path) -> None:
    signer, provider = signer_in(tmp_path)
    await provider.ensure_generated(SECRET_NAME)
    token = await signer.form_token("alice", "try-on", "click-1")
    assert await signer.form_token_valid(token, "alice", "try-on", "click-1")
    assert not await signer.form_token_valid(token, "alice", "bundle", "click-1")
    assert not await signer.form_token_valid(token, "bob", "try-on", "click-1")


def test_signing_in_returns_only_to_a_path_on_this_site() -> None:
    assert local_path("/market/packs/x?market=DE") == "/market/packs/x?market=DE"
    assert local_path("//evil.example/") == local_path("/\\evil.example/") == "/market/"
    assert local_path("https://evil.example/") == "/market/"
