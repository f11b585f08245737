"""The official BOLT #11 test vectors (lightning/bolts 11-payment-encoding.md) through our decoding path.

The valid vectors decode to the documented fields; every invalid one is refused with a message that
names the rule it breaks. Legacy vectors (no ``s`` field) are decoded with the payment secret optional.
"""

import pytest

from shared.connectors.lightning.bolt11_invoices import InvalidInvoiceError, decode_invoice

PAYEE = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
HASH = "0001020304050607080900010203040506070809000102030405060708090102"
TS = 1496314658

DONATION = (
    "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g"
    "6rfwvs8qun0dfjkxaq8rkx3yf5tcsyz3d73gafnh3cax9rn449d9p5uxz9ezhhypd0elx87sjle52x86fux2ypatgddc6k63n7erqz25le42c4u4ecky"
    "03ylcqca784w"
)
COFFEE = (
    "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaztrnwngzn3kdzw5"
    "hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspfj9srp"
)
CAKE = (
    "lnbc20m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy0"
    "43l2ahrqscc6gd6ql3jrc5yzme8v4ntcewwz5cnw92tz0pc8qcuufvq7khhr8wpald05e92xw006sq94mg8v2ndf4sefvf9sygkshp5zfem29trqq2yxxz7"
)
BEANS = (
    "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3"
    "zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqpqsq67gye39hfg3zd8rgc80k32tvy9xk2xunwm5lzexnvpx6fd77en8qaq424dxgt56"
    "cag2dpt359k3ssyhetktkpqh24jqnjyw6uqd08sgptq44qu"
)
BEANS_IGNORED_FIELDS = (
    "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3"
    "zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqpqsq2qrqqqfppnqqqqqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqqppnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqpp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqhpnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhp4qqqqqqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqspnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsp4qqqqqqqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnp5qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnp"
    "kqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2jxxfsnucm4jf4zwtznpaxphce606fvhvje5x7d4gw7n7"
    "3994hgs7nteqvenq8a4ml8aqtchv5d9pf7l558889hp4yyrqv6a7zpq9fgpskqhza"
)
BLOCKSTREAM = (
    "lnbc9678785340p1pwmna7lpp5gc3xfm08u9qy06djf8dfflhugl6p7lgza6dsjxq454gxhj9t7a0sd8dgfkx7cmtwd68yetpd5s9xar0wfjn5gpc8qh"
    "rsdfq24f5ggrxdaezqsnvda3kkum5wfjkzmfqf3jkgem9wgsyuctwdus9xgrcyqcjcgpzgfskx6eqf9hzqnteypzxz7fzypfhg6trddjhygrcyqezcgpzf"
    "ysywmm5ypxxjemgw3hxjmn8yptk7untd9hxwg3q2d6xjcmtv4ezq7pqxgsxzmnyyqcjqmt0wfjjq6t5v4khxxqyjw5qcqp2rzjq0gxwkzc8w6323m55m4j"
    "yxcjwmy7stt9hwkwe2qxmy8zpsgg7jcuwz87fcqqeuqqqyqqqqlgqqqqn3qq9qn07ytgrxxzad9hc4xt3mawjjt8znfv8xzscs7007v9gh9j569lencxa8"
    "xeujzkxs0uamak9aln6ez02uunw6rd2ht2sqe4hz8thcdagpleym0j"
)


@pytest.mark.parametrize(
    ("invoice", "amount_msat", "description", "description_hash", "expiry_s", "cltv"),
    [
        (DONATION, None, "Please consider supporting this project", None, 3600, 18),
        (COFFEE, 250_000_000, "1 cup coffee", None, 60, 18),
        (
            CAKE,
            2_000_000_000,
            None,
            "3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1",
            3600,
            18,
        ),
    ],
    ids=["donation-any-amount", "coffee-2500u", "cake-description-hash"],
)
def test_legacy_vectors_decode_to_their_documented_fields(
    invoice: str,
    amount_msat: int | None,
    description: str | None,
    description_hash: str | None,
    expiry_s: int,
    cltv: int,
) -> None:
    decoded = decode_invoice(invoice, require_payment_secret=False)

    assert decoded.amount_msat == amount_msat
    assert decoded.payment_hash == HASH
    assert int(decoded.created_at.timestamp()) == TS
    assert (decoded.description, decoded.description_hash) == (description, description_hash)
    assert (decoded.expiry_s, decoded.min_final_cltv_expiry) == (expiry_s, cltv)
    assert decoded.payee == PAYEE


@pytest.mark.parametrize(
    "invoice", [BEANS, BEANS.upper(), BEANS_IGNORED_FIELDS], ids=["lower", "upper", "ignored-fields"]
)
def test_modern_vector_decodes_with_its_payment_secret(invoice: str) -> None:
    decoded = decode_invoice(invoice)

    assert decoded.amount_msat == 2_500_000_000
    assert decoded.payment_hash == HASH
    assert decoded.payment_secret == "11" * 32
    assert decoded.description == "coffee beans"
    assert decoded.payee == PAYEE


def test_pico_bitcoin_vector_decodes_to_exact_millisatoshis() -> None:
    decoded = decode_invoice(BLOCKSTREAM, require_payment_secret=False)

    assert decoded.amount_msat == 967_878_534
    assert decoded.payment_hash == "462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f"
    assert int(decoded.created_at.timestamp()) == 1572468703
    assert (decoded.expiry_s, decoded.min_final_cltv_expiry) == (604800, 10)
    assert decoded.description is not None and decoded.description.startswith("Blockstream Store: 88.85 USD")


def test_legacy_vector_is_refused_where_a_payment_secret_is_required() -> None:
    with pytest.raises(InvalidInvoiceError, match="payment_secret"):
        decode_invoice(COFFEE)


INVALID = {
    "unknown-even-feature-100": (
        "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3"
        "zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q4psqqqqqqqqqqqqqqqpqsqq40wa3khl49yue3zsgm26jrepqr2eghqlx86rttutve3ugd05em86nsefzh4"
        "pfurpd9ek9w2vp95zxqnfe2u7ckudyahsa52q66tgzcp6t2dyk",
        "feature bit 100",
    ),
    "bad-checksum": (
        "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg"
        "5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrnt",
        "Bech32",
    ),
    "no-separator": (
        "pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25a"
        "lkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny",
        "separator",
    ),
    "mixed-case": (
        "LNBC2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg"
        "5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny",
        "mixed-case",
    ),
    "signature-not-recoverable": (
        "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaxtrnwngzn3kdzw5"
        "hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspk28uwq",
        "signature",
    ),
    "too-short": (
        "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6na6hlh",
        "short",
    ),
    "invalid-multiplier": (
        "lnbc2500x1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpujr6jxr9gq9pv6g46y"
        "7d20jfkegkg4gljz2ea2a3m9lmvvr95tq2s0kvu70u3axgelz3kyvtp2ywwt0y8hkx2869zq5dll9nelr83zzqqpgl2zg",
        "multiplier",
    ),
    "sub-millisatoshi": (
        "lnbc2500000001p1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu7hqtk93pkf"
        "7sw55rdv4k9z2vj050rxdr6za9ekfs3nlt5lr89jqpdmxsmlj9urqumg0h9wzpqecw7th56tdms40p2ny9q4ddvjsedzcplva53s",
        "sub-millisatoshi",
    ),
}


@pytest.mark.parametrize(("invoice", "reason"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_vector_is_refused_with_a_clear_error(invoice: str, reason: str) -> None:
    with pytest.raises(InvalidInvoiceError, match=reason):
        decode_invoice(invoice, require_payment_secret=False)
