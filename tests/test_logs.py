import logging

from bot.logs import setup_logging

SECRET = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_secrets_are_masked_in_messages_args_and_tracebacks(capsys):
    setup_logging("INFO", [SECRET, "rw-key-abcdef"])
    log = logging.getLogger("anything")
    log.info("calling https://api.telegram.org/bot%s/getMe", SECRET)
    try:
        raise RuntimeError(f"failed with key rw-key-abcdef and {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    err = capsys.readouterr().err
    assert SECRET not in err and "rw-key-abcdef" not in err
    assert "bot***/getMe" in err
    assert "RuntimeError: failed with key *** and ***" in err
