"""Synthetic e-mail/SMS messages labelled phishing (1) or legitimate (0), for text-classifier robustness tests.

Both classes share vocabulary (account, payment, invoice, link) so the classifier must pick up phrasing,
which is exactly what character-level evasion (typos, homoglyphs) attacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SLOTS = {
    "service": ["bank", "mailbox", "cloud storage", "payroll", "VPN", "tax portal"],
    "intranet": ["https://intranet.example.lu/docs", "https://portal.example.lu/billing", "https://wiki.example.lu/team"],
    "url": [
        "http://secure-login.example-verify.com",
        "http://bit.example/x7",
        "https://account-check.example.net",
        "http://192.0.2.14/login",
    ],
    "prize": ["iPhone", "holiday voucher", "cash prize of 5000 EUR", "free upgrade"],
    "num": ["4471", "2025-118", "INV-0932", "77120"],
    "amount": ["2.99", "49", "120", "1,250"],
    "n": ["three", "five", "ten"],
    "name": ["Anna", "Luc", "Sofia", "Marc", "Elena"],
    "time": ["10:00", "14:30", "16:00"],
    "room": ["B2", "the small meeting room", "3.14"],
    "project": ["Q3 budget", "data platform", "customer survey", "GPU cluster"],
    "day": ["Monday", "Thursday", "next week", "Friday afternoon"],
}

PHISHING = [
    "Your {service} account has been suspended. Verify your password within 24 hours at {url}",
    "Urgent: unusual sign-in detected on your {service} account. Confirm your identity here {url}",
    "Congratulations, you have won a {prize}! Claim it now by entering your card details at {url}",
    "Invoice {num} is overdue. Open the attached file and enable macros to see the payment details.",
    "Hi, it's the CEO. I need you to buy {n} gift cards urgently and send me the codes. Keep it confidential.",
    "Your parcel could not be delivered. Pay the customs fee of {amount} EUR at {url} today.",
    "Security alert: reset your {service} password immediately using this link {url}",
    "Final notice: your {service} access expires today. Log in at {url} to keep your account active.",
    "Please review the shared document about the {project} before {day}: {url}",
    "Your payment of {amount} EUR failed. Update your billing details at {url}",
    "{name}, can you quickly check this invoice {num} for me? {url}",
]
LEGITIMATE = [
    "Hi {name}, the team meeting is moved to {time} in room {room}.",
    "Please find attached the minutes of yesterday's {project} review.",
    "Your order {num} has shipped and will arrive on {day}. You can follow it in your account.",
    "Reminder: the {project} deliverable is due on {day}. Let me know if you need help.",
    "Thanks for your payment of {amount} EUR, invoice {num} is settled. No further action is needed.",
    "The {service} maintenance window is scheduled for {day} at {time}.",
    "Lunch on {day}? {name} recommends the new place near the office.",
    "The slides for the {project} workshop are on the shared drive; feedback welcome before {day}.",
    "You requested a password reset for your {service} account. If it was not you, contact the IT desk.",
    "Your {service} statement for invoice {num} is available in the usual portal: {intranet}",
    "{name} shared the {project} document with you: {intranet}",
]


def _fill(template: str, rng: np.random.Generator) -> str:
    return template.format(**{k: rng.choice(v) for k, v in _SLOTS.items() if "{" + k + "}" in template})


def make_messages(n: int, phishing_share: float = 0.4, label_noise: float = 0.03, seed: int = 0) -> pd.DataFrame:
    """Columns ``text`` and ``is_phishing``; ``label_noise`` flips a few labels, as in real user reports."""
    rng = np.random.default_rng(seed)
    is_phishing = rng.random(n) < phishing_share
    texts = [_fill(rng.choice(PHISHING if p else LEGITIMATE), rng) for p in is_phishing]
    labels = is_phishing ^ (rng.random(n) < label_noise)
    return pd.DataFrame({"text": texts, "is_phishing": labels.astype(int)})
