"""The words the patient confirmation fills its templates with, in each language a patient can
choose (the facilitator's email, in English, takes its labels from `leads/fields.py`).

The templates (`templates/emails/`) lay these out; a translator edits only this module.
"""

from __future__ import annotations

from typing import Final

PATIENT_CONFIRMATION: Final[dict[str, dict[str, str]]] = {
    "en": {
        "subject": "We have received your request",
        "greeting": "Dear {name},",
        "intro": "Thank you for asking for a free quote. Your request has arrived safely.",
        "reference": "Your reference: {reference}. Please keep it for any questions.",
        "summary_heading": "What you sent us",
        "next_heading": "What happens next",
        "next_named": (
            "{facilitator}, a medical-tourism facilitator, will review your request and "
            "contact you {contact} within {hours} hours."
        ),
        "next_unnamed": (
            "A medical-tourism facilitator will review your request and contact you {contact} "
            "within {hours} hours."
        ),
        "disclaimer_heading": "Please note",
        "disclaimer": (
            "The information we publish is for informational purposes only and is not a "
            "substitute for professional medical advice, diagnosis or treatment. Always ask "
            "your doctor or another qualified health provider about your medical condition. "
            "We do not endorse any particular provider, clinic, treatment or procedure. Please "
            "do your own research and talk to healthcare professionals before deciding on "
            "treatment abroad."
        ),
        "rights_heading": "Your consent and your data",
        "rights": (
            "You can withdraw your consent, or ask us to erase your request, at any time: "
            "simply reply to this email and tell us. Withdrawing does not affect what was done "
            "before."
        ),
        "not_you": (
            "You receive this message because a quote was requested with this email address. "
            "If that was not you, reply and we will erase the request."
        ),
        "signature": "Kind regards,\nMedical Tourism Magazine",
        "not_given": "not given",
        "yes": "yes",
        "no": "no",
        "label_treatment": "Treatment",
        "label_destination": "Destination",
        "label_country": "Country",
        "label_language": "Language",
        "label_patient_relation": "The request is for",
        "label_stroke_type": "Type of stroke",
        "label_stroke_date": "Month of the stroke",
        "label_medical_summary": "Your situation",
        "label_travel_window": "When you would like to travel",
        "label_budget": "Budget",
        "label_contact_method": "Contact",
        "label_phone": "Phone",
        "label_email": "Email",
        "label_consent_marketing": "News by email",
        "contact_email": "by email",
        "contact_phone": "by phone",
        "contact_whatsapp": "on WhatsApp",
        "relation_self": "myself",
        "relation_family": "a family member",
        "relation_other": "someone else",
        "stroke_ischemic": "ischemic",
        "stroke_hemorrhagic": "hemorrhagic",
        "stroke_unknown": "I don't know",
    },
    "fr": {
        "subject": "Nous avons bien reçu votre demande",
        "greeting": "Bonjour {name},",
        "intro": "Merci d'avoir demandé un devis gratuit. Votre demande nous est bien parvenue.",
        "reference": "Votre référence : {reference}. Conservez-la pour toute question.",
        "summary_heading": "Ce que vous nous avez envoyé",
        "next_heading": "La suite",
        "next_named": (
            "{facilitator}, un facilitateur de tourisme médical, va examiner votre demande et "
            "vous contactera {contact} dans les {hours} heures."
        ),
        "next_unnamed": (
            "Un facilitateur de tourisme médical va examiner votre demande et vous contactera "
            "{contact} dans les {hours} heures."
        ),
        "disclaimer_heading": "À noter",
        "disclaimer": (
            "Les informations que nous publions sont fournies à titre informatif uniquement et "
            "ne remplacent pas un avis, un diagnostic ou un traitement médical professionnel. "
            "Consultez toujours votre médecin ou un autre professionnel de santé qualifié au "
            "sujet de votre état de santé. Nous ne recommandons aucun prestataire, aucune "
            "clinique, aucun traitement ni aucune intervention en particulier. Renseignez-vous "
            "et parlez-en à des professionnels de santé avant de décider d'un traitement à "
            "l'étranger."
        ),
        "rights_heading": "Votre consentement et vos données",
        "rights": (
            "Vous pouvez retirer votre consentement, ou nous demander d'effacer votre demande, "
            "à tout moment : il suffit de répondre à cet e-mail. Le retrait ne remet pas en "
            "cause ce qui a été fait auparavant."
        ),
        "not_you": (
            "Vous recevez ce message parce qu'un devis a été demandé avec cette adresse e-mail. "
            "Si ce n'était pas vous, répondez-nous et nous effacerons la demande."
        ),
        "signature": "Bien cordialement,\nMedical Tourism Magazine",
        "not_given": "non précisé",
        "yes": "oui",
        "no": "non",
        "label_treatment": "Traitement",
        "label_destination": "Destination",
        "label_country": "Pays",
        "label_language": "Langue",
        "label_patient_relation": "La demande concerne",
        "label_stroke_type": "Type d'AVC",
        "label_stroke_date": "Mois de l'AVC",
        "label_medical_summary": "Votre situation",
        "label_travel_window": "Période de voyage souhaitée",
        "label_budget": "Budget",
        "label_contact_method": "Contact",
        "label_phone": "Téléphone",
        "label_email": "E-mail",
        "label_consent_marketing": "Actualités par e-mail",
        "contact_email": "par e-mail",
        "contact_phone": "par téléphone",
        "contact_whatsapp": "sur WhatsApp",
        "relation_self": "moi-même",
        "relation_family": "un membre de ma famille",
        "relation_other": "une autre personne",
        "stroke_ischemic": "ischémique",
        "stroke_hemorrhagic": "hémorragique",
        "stroke_unknown": "je ne sais pas",
    },
    "nl": {
        "subject": "We hebben uw aanvraag ontvangen",
        "greeting": "Beste {name},",
        "intro": (
            "Bedankt voor uw aanvraag voor een gratis offerte. Uw aanvraag is goed aangekomen."
        ),
        "reference": "Uw referentie: {reference}. Bewaar deze voor eventuele vragen.",
        "summary_heading": "Wat u ons stuurde",
        "next_heading": "Wat er nu gebeurt",
        "next_named": (
            "{facilitator}, een bemiddelaar in medisch toerisme, bekijkt uw aanvraag en neemt "
            "binnen {hours} uur {contact} contact met u op."
        ),
        "next_unnamed": (
            "Een bemiddelaar in medisch toerisme bekijkt uw aanvraag en neemt binnen {hours} uur "
            "{contact} contact met u op."
        ),
        "disclaimer_heading": "Let op",
        "disclaimer": (
            "De informatie die wij publiceren is uitsluitend bedoeld ter informatie en vervangt "
            "geen professioneel medisch advies, geen diagnose en geen behandeling. Raadpleeg "
            "altijd uw arts of een andere gekwalificeerde zorgverlener over uw medische "
            "toestand. Wij bevelen geen enkele zorgverlener, kliniek, behandeling of ingreep in "
            "het bijzonder aan. Doe uw eigen onderzoek en overleg met zorgprofessionals voordat "
            "u beslist over een behandeling in het buitenland."
        ),
        "rights_heading": "Uw toestemming en uw gegevens",
        "rights": (
            "U kunt uw toestemming op elk moment intrekken, of ons vragen uw aanvraag te "
            "wissen: beantwoord gewoon deze e-mail. Intrekken heeft geen gevolgen voor wat "
            "eerder al gebeurd is."
        ),
        "not_you": (
            "U ontvangt dit bericht omdat met dit e-mailadres een offerte werd aangevraagd. "
            "Was u dat niet, antwoord dan en wij wissen de aanvraag."
        ),
        "signature": "Met vriendelijke groet,\nMedical Tourism Magazine",
        "not_given": "niet opgegeven",
        "yes": "ja",
        "no": "nee",
        "label_treatment": "Behandeling",
        "label_destination": "Bestemming",
        "label_country": "Land",
        "label_language": "Taal",
        "label_patient_relation": "De aanvraag is voor",
        "label_stroke_type": "Soort beroerte",
        "label_stroke_date": "Maand van de beroerte",
        "label_medical_summary": "Uw situatie",
        "label_travel_window": "Wanneer u wilt reizen",
        "label_budget": "Budget",
        "label_contact_method": "Contact",
        "label_phone": "Telefoon",
        "label_email": "E-mail",
        "label_consent_marketing": "Nieuws per e-mail",
        "contact_email": "per e-mail",
        "contact_phone": "telefonisch",
        "contact_whatsapp": "via WhatsApp",
        "relation_self": "mezelf",
        "relation_family": "een familielid",
        "relation_other": "iemand anders",
        "stroke_ischemic": "herseninfarct (ischemisch)",
        "stroke_hemorrhagic": "hersenbloeding",
        "stroke_unknown": "weet ik niet",
    },
    "de": {
        "subject": "Wir haben Ihre Anfrage erhalten",
        "greeting": "Guten Tag {name},",
        "intro": (
            "vielen Dank für Ihre Anfrage nach einem kostenlosen Angebot. Ihre Anfrage ist "
            "sicher bei uns angekommen."
        ),
        "reference": "Ihre Referenz: {reference}. Bitte bewahren Sie sie für Rückfragen auf.",
        "summary_heading": "Was Sie uns geschickt haben",
        "next_heading": "Wie es weitergeht",
        "next_named": (
            "{facilitator}, ein Vermittler für Medizintourismus, prüft Ihre Anfrage und meldet "
            "sich innerhalb von {hours} Stunden {contact} bei Ihnen."
        ),
        "next_unnamed": (
            "Ein Vermittler für Medizintourismus prüft Ihre Anfrage und meldet sich innerhalb "
            "von {hours} Stunden {contact} bei Ihnen."
        ),
        "disclaimer_heading": "Bitte beachten Sie",
        "disclaimer": (
            "Die von uns veröffentlichten Informationen dienen ausschließlich der Information "
            "und ersetzen keine professionelle medizinische Beratung, Diagnose oder Behandlung. "
            "Fragen Sie zu Ihrem Gesundheitszustand immer Ihren Arzt oder eine andere "
            "qualifizierte medizinische Fachkraft. Wir empfehlen keine bestimmten Anbieter, "
            "Kliniken, Behandlungen oder Eingriffe. Informieren Sie sich selbst und sprechen "
            "Sie mit medizinischen Fachleuten, bevor Sie sich für eine Behandlung im Ausland "
            "entscheiden."
        ),
        "rights_heading": "Ihre Einwilligung und Ihre Daten",
        "rights": (
            "Sie können Ihre Einwilligung jederzeit widerrufen oder uns bitten, Ihre Anfrage zu "
            "löschen: Antworten Sie einfach auf diese E-Mail. Der Widerruf berührt nicht, was "
            "zuvor geschehen ist."
        ),
        "not_you": (
            "Sie erhalten diese Nachricht, weil mit dieser E-Mail-Adresse ein Angebot "
            "angefragt wurde. Falls Sie das nicht waren, antworten Sie bitte, und wir löschen "
            "die Anfrage."
        ),
        "signature": "Mit freundlichen Grüßen\nMedical Tourism Magazine",
        "not_given": "keine Angabe",
        "yes": "ja",
        "no": "nein",
        "label_treatment": "Behandlung",
        "label_destination": "Reiseziel",
        "label_country": "Land",
        "label_language": "Sprache",
        "label_patient_relation": "Die Anfrage betrifft",
        "label_stroke_type": "Art des Schlaganfalls",
        "label_stroke_date": "Monat des Schlaganfalls",
        "label_medical_summary": "Ihre Situation",
        "label_travel_window": "Gewünschter Reisezeitraum",
        "label_budget": "Budget",
        "label_contact_method": "Kontakt",
        "label_phone": "Telefon",
        "label_email": "E-Mail",
        "label_consent_marketing": "Neuigkeiten per E-Mail",
        "contact_email": "per E-Mail",
        "contact_phone": "telefonisch",
        "contact_whatsapp": "über WhatsApp",
        "relation_self": "mich selbst",
        "relation_family": "ein Familienmitglied",
        "relation_other": "eine andere Person",
        "stroke_ischemic": "ischämisch",
        "stroke_hemorrhagic": "hämorrhagisch (Hirnblutung)",
        "stroke_unknown": "weiß ich nicht",
    },
}
