"""Rendering: one touch for one deal into what is sent (touch.py → content.py), the email and
invite it travels as (messages.py, invite.py), the reader's words (i18n.py, locales/) and the
handwriting renderer (handwriting/)."""
