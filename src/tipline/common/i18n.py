"""Marking messages for translation in pure code, which must not import Django."""


def gettext_noop(message: str) -> str:
    """Mark `message` for translation (makemessages knows this name); it stays English here.

    Callers keep the values apart (`template % params`) so a page can show the message
    translated with gettext(template) % params.
    """
    return message
