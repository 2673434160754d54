"""When a conversation goes to staff: keywords, the guest-facing hand-over text, and the task.

Keyword rules run on every guest message before the model (so an emergency is
recognised even with no model and no knowledge), in English, Spanish, French
and German.  Text is compared lower-case without accents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jack_host.kit.language import fold, guess_language

#: reason -> language -> patterns (regular expressions on folded text).
KEYWORDS: dict[str, dict[str, list[str]]] = {
    "emergency": {
        "en": [r"emergenc", r"\bfire\b", r"ambulance", r"heart attack", r"bleeding", r"unconscious", r"can'?t breathe",
               r"\bpolice\b", r"gas leak", r"\bsmoke\b", r"flood", r"injur", r"stuck in the (lift|elevator)"],
        "es": [r"emergencia", r"incendio", r"\bfuego\b", r"ambulancia", r"sangr", r"inconsciente", r"no puedo respirar",
               r"policia", r"fuga de gas", r"\bhumo\b", r"inundacion", r"herid"],
        "fr": [r"\burgence", r"incendie", r"ambulance", r"saigne", r"inconscient", r"je ne peux pas respirer",
               r"\bpolice\b", r"fuite de gaz", r"fumee", r"inondation", r"\bblesse"],
        "de": [r"notfall", r"\bfeuer\b", r"\bbrand\b", r"krankenwagen", r"notarzt", r"blutet", r"bewusstlos",
               r"kann nicht atmen", r"polizei", r"gasleck", r"\brauch\b", r"uberschwemm", r"verletzt"],
    },
    "complaint": {
        "en": [r"complain", r"complaint", r"unacceptable", r"disgusting", r"terrible", r"awful", r"horrible",
               r"\brefund", r"furious", r"very disappointed", r"\brude\b", r"\bfilthy\b"],
        "es": [r"\bqueja", r"reclamacion", r"inaceptable", r"asqueroso", r"horrible", r"terrible", r"reembolso",
               r"muy decepcionad", r"\bsucio", r"maleducad"],
        "fr": [r"plainte", r"reclamation", r"inacceptable", r"degoutant", r"horrible", r"remboursement",
               r"scandaleux", r"tres decu", r"impoli"],
        "de": [r"beschwerde", r"beschweren", r"inakzeptabel", r"unverschamt", r"ekelhaft", r"schrecklich",
               r"erstattung", r"sehr enttauscht", r"schmutzig", r"unfreundlich"],
    },
    "human_request": {
        "en": [r"(speak|talk|chat) (to|with) (a |an |the |your |some )?(real )?(person|human|manager|someone|somebody|staff|agent|receptionist|people)",
               r"real person", r"\bhuman\b", r"\bmanager\b", r"\boperator\b"],
        "es": [r"hablar con (una |un |el |la |alguien|algun)?(persona|humano|gerente|encargad|recepcion|alguien)",
               r"persona real", r"\bgerente\b", r"\bencargad"],
        "fr": [r"parler (a|avec) (quelqu'un|une personne|un humain|le directeur|la directrice|un responsable|le responsable|le gerant|la reception)",
               r"personne reelle", r"\bdirecteur\b", r"\bgerant\b", r"vrai humain"],
        "de": [r"mit (einem |einer |dem |der )?(menschen|person|mitarbeiter|manager|rezeption|jemandem)\b.*sprechen",
               r"echte[nm]? (person|menschen)", r"\bmanager\b", r"geschaftsfuhr"],
    },
}
COMPILED = {
    reason: {language: [re.compile(p) for p in patterns] for language, patterns in by_language.items()}
    for reason, by_language in KEYWORDS.items()
}
#: Checked in this order: the most serious reason wins.
SEVERITY = ("emergency", "complaint", "human_request")
ROUTING = {
    "emergency": ("security", "urgent"),
    "complaint": ("front_desk", "high"),
    "human_request": ("front_desk", "standard"),
}

HANDOVER = {
    "en": "Thank you for your message. I have passed it to our team, and a member of staff will follow up with you shortly.",
    "es": "Gracias por su mensaje. Lo he transmitido a nuestro equipo y un miembro del personal le responderá en breve.",
    "fr": "Merci pour votre message. Je l'ai transmis à notre équipe et un membre du personnel reviendra vers vous très bientôt.",
    "de": "Vielen Dank für Ihre Nachricht. Ich habe sie an unser Team weitergegeben; eine Mitarbeiterin oder ein Mitarbeiter meldet sich in Kürze bei Ihnen.",
}
EMERGENCY = {
    "en": "Our staff have been alerted and will contact you right away. If anyone is in danger, please call the emergency number 112 (911 in North America) now.",
    "es": "Hemos alertado a nuestro personal, que se pondrá en contacto con usted de inmediato. Si alguien está en peligro, llame ahora al 112.",
    "fr": "Notre personnel a été alerté et va vous contacter immédiatement. Si quelqu'un est en danger, appelez maintenant le 112.",
    "de": "Unser Personal wurde alarmiert und meldet sich sofort bei Ihnen. Wenn jemand in Gefahr ist, rufen Sie bitte jetzt den Notruf 112 an.",
}


@dataclass(frozen=True)
class KeywordHit:
    reason: str  # emergency / complaint / human_request
    language: str
    department: str
    priority: str


@dataclass(frozen=True)
class Escalation:
    """Why and to whom a conversation goes; becomes a task."""

    reason: str
    department: str
    priority: str
    summary: str = ""


def detect(text: str) -> KeywordHit | None:
    """The most serious keyword reason found in ``text`` (and the language it was written in)."""
    folded = fold(text)
    for reason in SEVERITY:
        languages = [lang for lang, patterns in COMPILED[reason].items() if any(p.search(folded) for p in patterns)]
        if languages:
            guessed = guess_language(text)
            language = guessed if guessed in languages else languages[0]
            department, priority = ROUTING[reason]
            return KeywordHit(reason, language, department, priority)
    return None


def handover_text(language: str | None, emergency: bool = False) -> str:
    """The guest-facing "a person will follow up" message (English when the language is not known)."""
    texts = EMERGENCY if emergency else HANDOVER
    return texts.get((language or "en").split("-")[0].lower(), texts["en"])
