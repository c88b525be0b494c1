"""Checks a private key against the JWT algorithm it will sign with, before NetSuite sees it."""

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

# NetSuite accepts certificates for RSA 3072/4096 bits or EC P-256/P-384/P-521 (spec section 2a).
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
MINIMUM_RSA_BITS = 3072


def check_private_key(*, pem: str, algorithm: str) -> str | None:
    """None when the key can sign with `algorithm`, else what is wrong, in plain words."""
    try:
        key = load_pem_private_key(pem.strip().encode("utf-8"), password=None)
    except TypeError:
        return "The private key is password-protected; store it without a password."
    except (ValueError, UnsupportedAlgorithm):
        return "Not a readable PEM private key (expected '-----BEGIN PRIVATE KEY-----' ...)."
    if algorithm.startswith("PS"):
        if not isinstance(key, rsa.RSAPrivateKey):
            return f"{algorithm} needs an RSA private key, but this is {_describe(key)}."
        if key.key_size < MINIMUM_RSA_BITS:
            return f"NetSuite accepts RSA keys of {MINIMUM_RSA_BITS} or 4096 bits; this one has {key.key_size}."
        return None
    curve = _EC_CURVES.get(algorithm)
    if curve is None:
        return f"Unsupported algorithm {algorithm!r}."
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return f"{algorithm} needs an EC private key on {curve}, but this is {_describe(key)}."
    if key.curve.name != curve:
        return f"{algorithm} needs an EC key on {curve}, but this key is on {key.curve.name}."
    return None


def _describe(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"an RSA key ({key.key_size} bits)"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"an EC key on {key.curve.name}"
    return f"a {type(key).__name__.removeprefix('_')}"
