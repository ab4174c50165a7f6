"""The words the patient reads, in each language a patient can choose: the confirmation email,
and the privacy page with its emails (the facilitator's emails, in English, take their labels
from `leads/fields.py`).

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
            "On your personal page you can see everything we store about your request, "
            "download it, withdraw your consent or erase your request, at any time and without "
            "writing to anyone (the link works for {days} days; you can ask for a new one there):"
        ),
        "rights_after": (
            "Withdrawing does not affect what was done before. Keep this link private: anyone "
            "with it can see your request."
        ),
        "privacy_label": "How we handle personal data",
        "not_you": (
            "You receive this message because a quote was requested with this email address. "
            "If that was not you, erase the request with the link above, or reply and we will "
            "erase it."
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
            "Sur votre page personnelle, vous pouvez consulter tout ce que nous conservons sur "
            "votre demande, le télécharger, retirer votre consentement ou effacer votre demande, "
            "à tout moment et sans écrire à personne (le lien est valable {days} jours ; vous "
            "pourrez y en demander un nouveau) :"
        ),
        "rights_after": (
            "Le retrait ne remet pas en cause ce qui a été fait auparavant. Gardez ce lien pour "
            "vous : toute personne qui l'a peut voir votre demande."
        ),
        "privacy_label": "Comment nous traitons les données personnelles",
        "not_you": (
            "Vous recevez ce message parce qu'un devis a été demandé avec cette adresse e-mail. "
            "Si ce n'était pas vous, effacez la demande avec le lien ci-dessus, ou répondez-nous "
            "et nous l'effacerons."
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
            "Op uw persoonlijke pagina kunt u alles wat wij over uw aanvraag bewaren bekijken "
            "en downloaden, uw toestemming intrekken of uw aanvraag wissen, op elk moment en "
            "zonder iemand te schrijven (de link werkt {days} dagen; u kunt er een nieuwe "
            "aanvragen):"
        ),
        "rights_after": (
            "Intrekken heeft geen gevolgen voor wat eerder al gebeurd is. Houd deze link voor "
            "uzelf: wie hem heeft, kan uw aanvraag zien."
        ),
        "privacy_label": "Hoe wij met persoonsgegevens omgaan",
        "not_you": (
            "U ontvangt dit bericht omdat met dit e-mailadres een offerte werd aangevraagd. "
            "Was u dat niet, wis de aanvraag dan met de link hierboven, of antwoord en wij "
            "wissen ze."
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
            "Auf Ihrer persönlichen Seite können Sie alles, was wir zu Ihrer Anfrage speichern, "
            "einsehen und herunterladen, Ihre Einwilligung widerrufen oder Ihre Anfrage löschen, "
            "jederzeit und ohne jemandem zu schreiben (der Link gilt {days} Tage; dort können "
            "Sie einen neuen anfordern):"
        ),
        "rights_after": (
            "Der Widerruf berührt nicht, was zuvor geschehen ist. Behalten Sie diesen Link für "
            "sich: Wer ihn hat, kann Ihre Anfrage sehen."
        ),
        "privacy_label": "Wie wir mit personenbezogenen Daten umgehen",
        "not_you": (
            "Sie erhalten diese Nachricht, weil mit dieser E-Mail-Adresse ein Angebot "
            "angefragt wurde. Falls Sie das nicht waren, löschen Sie die Anfrage über den Link "
            "oben, oder antworten Sie, und wir löschen sie."
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

# The privacy page, the page for a fresh link, and the emails they cause. The page also uses
# the confirmation's labels and choices above (`label_*`, `relation_*`, `stroke_*`...).
PRIVACY: Final[dict[str, dict[str, str]]] = {
    "en": {
        "page_title": "Your request {reference} and your data",
        "intro": (
            "This page shows everything we store about your request, and lets you download it, "
            "withdraw your consent or erase it. Keep its address private: anyone with it can see "
            "your request."
        ),
        "fields_heading": "What we store",
        "recipient_heading": "Who received your request",
        "recipient_named": (
            "{name}, a medical-tourism facilitator, received your request to prepare your quote."
        ),
        "recipient_none": "Your request has not been passed to a facilitator.",
        "consents_heading": "Your consents",
        "consent_granted": "agreed",
        "consent_refused": "not agreed",
        "consent_withdrawn": "withdrawn",
        "consent_version": "Text version {version}",
        "consent_from": "IP address {ip}; browser: {user_agent}",
        "consent_text": "The exact text",
        "kind_disclaimer": "Disclaimer read",
        "kind_health_data": "Processing of your health data",
        "kind_marketing": "News by email",
        "emails_heading": "Emails we sent you",
        "emails_none": "None yet.",
        "email_sent": "sent on {date}",
        "email_waiting": "waiting to be sent",
        "email_failed": "could not be delivered",
        "email_cancelled": "cancelled",
        "download_heading": "Download your data",
        "download_text": "One file (JSON) with everything on this page.",
        "download_button": "Download my data",
        "marketing_heading": "News by email",
        "marketing_on": "You agreed to receive occasional news from us by email.",
        "marketing_off": "You do not receive news from us by email.",
        "marketing_button": "Withdraw my consent to news by email",
        "marketing_done": (
            "Done: your consent to news by email is withdrawn, and the withdrawal is recorded "
            "with your consents."
        ),
        "erase_heading": "Erase your request",
        "erase_text": (
            "This withdraws your consent to the processing of your health data and erases your "
            "request: your name, contact details and everything you wrote. Emails not yet sent "
            "are cancelled, and we ask the facilitator to delete your request on their side. As "
            "proof of what you agreed to and when, we keep only the reference, the dates, the "
            "status, your country and the record of your consents, without your IP address and "
            "browser. You will receive one last email saying it is done. This cannot be undone."
        ),
        "erase_confirm": "I understand that my request will be erased for good.",
        "erase_confirm_missing": "Tick the box to confirm that you want your request erased.",
        "erase_button": "Erase my request",
        "erased_title": "This request has been erased",
        "erased_text": (
            "The personal data of request {reference} was erased on {date}. We keep only the "
            "reference, the dates, the status, the country and the record of consents, as proof."
        ),
        "label_reference": "Reference",
        "label_created_at": "Received",
        "label_status": "Status",
        "label_full_name": "Name",
        "label_facilitator": "Facilitator",
        "label_responded_at": "First answer from a facilitator",
        "label_overdue_since": "Facilitator's answer overdue since",
        "label_source": "Sent through",
        "label_referrer": "The page you came from",
        "status_new": "received",
        "status_contacted": "contacted by the facilitator",
        "status_quoted": "quote sent",
        "status_won": "closed (treatment arranged)",
        "status_lost": "closed",
        "status_spam": "closed",
        "status_duplicate": "closed (a duplicate of another request)",
        "source_form": "the quote form",
        "source_api": "a partner's website",
        "not_routed": "none",
        "notice_link": "How we handle personal data",
        "new_link_expired": "This link has expired",
        "new_link_invalid": "This link does not work",
        "new_link_title": "A new link to your request",
        "new_link_text": (
            "Enter the email address you used for your request. If we have a request from it, "
            "we will send a new link to that address."
        ),
        "new_link_label": "Email address",
        "new_link_button": "Send me a new link",
        "new_link_bad_address": "Enter a valid email address, like name@example.com.",
        "new_link_too_many": (
            "Too many new links were asked for from here, or for this address, in the last "
            "hour. Please try again in an hour."
        ),
        "new_link_sent_title": "Please check your email",
        "new_link_sent": (
            "If we have a request from this address, a new link is on its way to it. It can "
            "take a few minutes; please also look in your spam folder."
        ),
        "greeting_plain": "Hello,",
        "link_subject": "Your personal link to your request",
        "link_intro": (
            "You asked for a new link to your personal page, where you can see, download or "
            "erase what we store about your request. The link works for {days} days:"
        ),
        "link_request": "Request {reference} of {date}:",
        "link_not_you": "If you did not ask for it, you can ignore this email: nothing changes.",
        "erased_subject": "Your request {reference} has been erased",
        "erased_intro": (
            "As you asked, we have erased the personal data of your request {reference}: your "
            "name, contact details and everything you wrote. We have asked the facilitator to "
            "delete it too."
        ),
        "erased_kept": (
            "As proof of what you agreed to and when, we keep only the reference, the dates, "
            "the status, your country and the record of your consents, without your IP address "
            "and browser."
        ),
        "erased_last": "This is the last email you receive from us about this request.",
    },
    "fr": {
        "page_title": "Votre demande {reference} et vos données",
        "intro": (
            "Cette page montre tout ce que nous conservons sur votre demande et vous permet de "
            "le télécharger, de retirer votre consentement ou de l'effacer. Gardez son adresse "
            "pour vous : toute personne qui l'a peut voir votre demande."
        ),
        "fields_heading": "Ce que nous conservons",
        "recipient_heading": "Qui a reçu votre demande",
        "recipient_named": (
            "{name}, facilitateur de tourisme médical, a reçu votre demande pour préparer votre "
            "devis."
        ),
        "recipient_none": "Votre demande n'a été transmise à aucun facilitateur.",
        "consents_heading": "Vos consentements",
        "consent_granted": "accepté",
        "consent_refused": "non accepté",
        "consent_withdrawn": "retiré",
        "consent_version": "Version du texte : {version}",
        "consent_from": "Adresse IP {ip} ; navigateur : {user_agent}",
        "consent_text": "Le texte exact",
        "kind_disclaimer": "Avertissement lu",
        "kind_health_data": "Traitement de vos données de santé",
        "kind_marketing": "Actualités par e-mail",
        "emails_heading": "Les e-mails que nous vous avons envoyés",
        "emails_none": "Aucun pour l'instant.",
        "email_sent": "envoyé le {date}",
        "email_waiting": "en attente d'envoi",
        "email_failed": "n'a pas pu être remis",
        "email_cancelled": "annulé",
        "download_heading": "Télécharger vos données",
        "download_text": "Un fichier (JSON) avec tout ce qui figure sur cette page.",
        "download_button": "Télécharger mes données",
        "marketing_heading": "Actualités par e-mail",
        "marketing_on": (
            "Vous avez accepté de recevoir de temps en temps nos actualités par e-mail."
        ),
        "marketing_off": "Vous ne recevez pas nos actualités par e-mail.",
        "marketing_button": "Retirer mon consentement aux actualités par e-mail",
        "marketing_done": (
            "C'est fait : votre consentement aux actualités par e-mail est retiré, et ce "
            "retrait est enregistré avec vos consentements."
        ),
        "erase_heading": "Effacer votre demande",
        "erase_text": (
            "Vous retirez ainsi votre consentement au traitement de vos données de santé et "
            "effacez votre demande : votre nom, vos coordonnées et tout ce que vous avez écrit. "
            "Les e-mails pas encore envoyés sont annulés, et nous demandons au facilitateur "
            "d'effacer votre demande de son côté. Pour prouver ce que vous avez accepté et "
            "quand, nous gardons seulement la référence, les dates, le statut, votre pays et "
            "l'enregistrement de vos consentements, sans votre adresse IP ni votre navigateur. "
            "Vous recevrez un dernier e-mail le confirmant. C'est définitif."
        ),
        "erase_confirm": "Je comprends que ma demande sera effacée définitivement.",
        "erase_confirm_missing": "Cochez la case pour confirmer l'effacement de votre demande.",
        "erase_button": "Effacer ma demande",
        "erased_title": "Cette demande a été effacée",
        "erased_text": (
            "Les données personnelles de la demande {reference} ont été effacées le {date}. "
            "Nous gardons seulement la référence, les dates, le statut, le pays et "
            "l'enregistrement des consentements, comme preuve."
        ),
        "label_reference": "Référence",
        "label_created_at": "Reçue le",
        "label_status": "Statut",
        "label_full_name": "Nom",
        "label_facilitator": "Facilitateur",
        "label_responded_at": "Première réponse d'un facilitateur",
        "label_overdue_since": "Réponse du facilitateur en retard depuis",
        "label_source": "Envoyée via",
        "label_referrer": "La page d'où vous veniez",
        "status_new": "reçue",
        "status_contacted": "le facilitateur vous a contacté",
        "status_quoted": "devis envoyé",
        "status_won": "clôturée (traitement organisé)",
        "status_lost": "clôturée",
        "status_spam": "clôturée",
        "status_duplicate": "clôturée (doublon d'une autre demande)",
        "source_form": "le formulaire de devis",
        "source_api": "le site d'un partenaire",
        "not_routed": "aucun",
        "notice_link": "Comment nous traitons les données personnelles",
        "new_link_expired": "Ce lien a expiré",
        "new_link_invalid": "Ce lien ne fonctionne pas",
        "new_link_title": "Un nouveau lien vers votre demande",
        "new_link_text": (
            "Indiquez l'adresse e-mail utilisée pour votre demande. Si nous avons une demande "
            "de cette adresse, nous y enverrons un nouveau lien."
        ),
        "new_link_label": "Adresse e-mail",
        "new_link_button": "M'envoyer un nouveau lien",
        "new_link_bad_address": "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr.",
        "new_link_too_many": (
            "Trop de nouveaux liens ont été demandés d'ici, ou pour cette adresse, depuis une "
            "heure. Réessayez dans une heure."
        ),
        "new_link_sent_title": "Consultez vos e-mails",
        "new_link_sent": (
            "Si nous avons une demande de cette adresse, un nouveau lien est en route. Cela "
            "peut prendre quelques minutes ; regardez aussi dans vos courriers indésirables."
        ),
        "greeting_plain": "Bonjour,",
        "link_subject": "Votre lien personnel vers votre demande",
        "link_intro": (
            "Vous avez demandé un nouveau lien vers votre page personnelle, où vous pouvez "
            "consulter, télécharger ou effacer ce que nous conservons sur votre demande. Le "
            "lien est valable {days} jours :"
        ),
        "link_request": "Demande {reference} du {date} :",
        "link_not_you": (
            "Si vous ne l'avez pas demandé, vous pouvez ignorer cet e-mail : rien ne change."
        ),
        "erased_subject": "Votre demande {reference} a été effacée",
        "erased_intro": (
            "Comme vous l'avez demandé, nous avons effacé les données personnelles de votre "
            "demande {reference} : votre nom, vos coordonnées et tout ce que vous avez écrit. "
            "Nous avons demandé au facilitateur de l'effacer aussi."
        ),
        "erased_kept": (
            "Pour prouver ce que vous avez accepté et quand, nous gardons seulement la "
            "référence, les dates, le statut, votre pays et l'enregistrement de vos "
            "consentements, sans votre adresse IP ni votre navigateur."
        ),
        "erased_last": (
            "C'est le dernier e-mail que vous recevez de nous au sujet de cette demande."
        ),
    },
    "nl": {
        "page_title": "Uw aanvraag {reference} en uw gegevens",
        "intro": (
            "Deze pagina toont alles wat wij over uw aanvraag bewaren. U kunt het hier "
            "downloaden, uw toestemming intrekken of de aanvraag wissen. Houd het adres van "
            "deze pagina voor uzelf: wie het heeft, kan uw aanvraag zien."
        ),
        "fields_heading": "Wat wij bewaren",
        "recipient_heading": "Wie uw aanvraag ontving",
        "recipient_named": (
            "{name}, een bemiddelaar in medisch toerisme, ontving uw aanvraag om uw offerte "
            "voor te bereiden."
        ),
        "recipient_none": "Uw aanvraag is aan geen enkele bemiddelaar doorgegeven.",
        "consents_heading": "Uw toestemmingen",
        "consent_granted": "gegeven",
        "consent_refused": "niet gegeven",
        "consent_withdrawn": "ingetrokken",
        "consent_version": "Versie van de tekst: {version}",
        "consent_from": "IP-adres {ip}; browser: {user_agent}",
        "consent_text": "De precieze tekst",
        "kind_disclaimer": "Disclaimer gelezen",
        "kind_health_data": "Verwerking van uw gezondheidsgegevens",
        "kind_marketing": "Nieuws per e-mail",
        "emails_heading": "E-mails die wij u stuurden",
        "emails_none": "Nog geen.",
        "email_sent": "verzonden op {date}",
        "email_waiting": "wacht op verzending",
        "email_failed": "kon niet worden afgeleverd",
        "email_cancelled": "geannuleerd",
        "download_heading": "Uw gegevens downloaden",
        "download_text": "Eén bestand (JSON) met alles wat op deze pagina staat.",
        "download_button": "Mijn gegevens downloaden",
        "marketing_heading": "Nieuws per e-mail",
        "marketing_on": "U gaf toestemming om af en toe nieuws van ons per e-mail te ontvangen.",
        "marketing_off": "U ontvangt geen nieuws van ons per e-mail.",
        "marketing_button": "Mijn toestemming voor nieuws per e-mail intrekken",
        "marketing_done": (
            "Gedaan: uw toestemming voor nieuws per e-mail is ingetrokken, en de intrekking is "
            "bij uw toestemmingen vastgelegd."
        ),
        "erase_heading": "Uw aanvraag wissen",
        "erase_text": (
            "Hiermee trekt u uw toestemming voor de verwerking van uw gezondheidsgegevens in en "
            "wist u uw aanvraag: uw naam, contactgegevens en alles wat u schreef. E-mails die "
            "nog niet verzonden zijn, worden geannuleerd, en wij vragen de bemiddelaar uw "
            "aanvraag ook te wissen. Als bewijs van waarmee u instemde en wanneer, bewaren wij "
            "alleen de referentie, de data, de status, uw land en de vastlegging van uw "
            "toestemmingen, zonder uw IP-adres en browser. U krijgt nog één laatste e-mail ter "
            "bevestiging. Dit kan niet ongedaan worden gemaakt."
        ),
        "erase_confirm": "Ik begrijp dat mijn aanvraag definitief gewist wordt.",
        "erase_confirm_missing": (
            "Vink het vakje aan om te bevestigen dat u uw aanvraag wilt wissen."
        ),
        "erase_button": "Mijn aanvraag wissen",
        "erased_title": "Deze aanvraag is gewist",
        "erased_text": (
            "De persoonsgegevens van aanvraag {reference} zijn gewist op {date}. Wij bewaren "
            "alleen de referentie, de data, de status, het land en de vastlegging van de "
            "toestemmingen, als bewijs."
        ),
        "label_reference": "Referentie",
        "label_created_at": "Ontvangen",
        "label_status": "Status",
        "label_full_name": "Naam",
        "label_facilitator": "Bemiddelaar",
        "label_responded_at": "Eerste antwoord van een bemiddelaar",
        "label_overdue_since": "Antwoord van de bemiddelaar te laat sinds",
        "label_source": "Verstuurd via",
        "label_referrer": "De pagina waar u vandaan kwam",
        "status_new": "ontvangen",
        "status_contacted": "de bemiddelaar nam contact op",
        "status_quoted": "offerte verstuurd",
        "status_won": "afgesloten (behandeling geregeld)",
        "status_lost": "afgesloten",
        "status_spam": "afgesloten",
        "status_duplicate": "afgesloten (dubbel met een andere aanvraag)",
        "source_form": "het offerteformulier",
        "source_api": "de website van een partner",
        "not_routed": "geen",
        "notice_link": "Hoe wij met persoonsgegevens omgaan",
        "new_link_expired": "Deze link is verlopen",
        "new_link_invalid": "Deze link werkt niet",
        "new_link_title": "Een nieuwe link naar uw aanvraag",
        "new_link_text": (
            "Vul het e-mailadres in dat u voor uw aanvraag gebruikte. Als wij een aanvraag van "
            "dat adres hebben, sturen wij er een nieuwe link naartoe."
        ),
        "new_link_label": "E-mailadres",
        "new_link_button": "Stuur mij een nieuwe link",
        "new_link_bad_address": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.be.",
        "new_link_too_many": (
            "Het afgelopen uur werden te veel nieuwe links aangevraagd vanaf hier, of voor dit "
            "adres. Probeer het over een uur opnieuw."
        ),
        "new_link_sent_title": "Kijk in uw mailbox",
        "new_link_sent": (
            "Als wij een aanvraag van dit adres hebben, is er een nieuwe link onderweg. Dat kan "
            "enkele minuten duren; kijk ook in uw map met ongewenste e-mail."
        ),
        "greeting_plain": "Beste,",
        "link_subject": "Uw persoonlijke link naar uw aanvraag",
        "link_intro": (
            "U vroeg een nieuwe link naar uw persoonlijke pagina, waar u kunt bekijken, "
            "downloaden of wissen wat wij over uw aanvraag bewaren. De link werkt {days} dagen:"
        ),
        "link_request": "Aanvraag {reference} van {date}:",
        "link_not_you": (
            "Vroeg u hier niet om, dan kunt u deze e-mail negeren: er verandert niets."
        ),
        "erased_subject": "Uw aanvraag {reference} is gewist",
        "erased_intro": (
            "Zoals u vroeg, hebben wij de persoonsgegevens van uw aanvraag {reference} gewist: "
            "uw naam, contactgegevens en alles wat u schreef. Wij hebben de bemiddelaar "
            "gevraagd ze ook te wissen."
        ),
        "erased_kept": (
            "Als bewijs van waarmee u instemde en wanneer, bewaren wij alleen de referentie, de "
            "data, de status, uw land en de vastlegging van uw toestemmingen, zonder uw "
            "IP-adres en browser."
        ),
        "erased_last": "Dit is de laatste e-mail die u van ons over deze aanvraag ontvangt.",
    },
    "de": {
        "page_title": "Ihre Anfrage {reference} und Ihre Daten",
        "intro": (
            "Diese Seite zeigt alles, was wir zu Ihrer Anfrage speichern. Hier können Sie es "
            "herunterladen, Ihre Einwilligung widerrufen oder die Anfrage löschen. Behalten Sie "
            "die Adresse dieser Seite für sich: Wer sie hat, kann Ihre Anfrage sehen."
        ),
        "fields_heading": "Was wir speichern",
        "recipient_heading": "Wer Ihre Anfrage erhalten hat",
        "recipient_named": (
            "{name}, ein Vermittler für Medizintourismus, hat Ihre Anfrage erhalten, um Ihr "
            "Angebot vorzubereiten."
        ),
        "recipient_none": "Ihre Anfrage wurde an keinen Vermittler weitergegeben.",
        "consents_heading": "Ihre Einwilligungen",
        "consent_granted": "erteilt",
        "consent_refused": "nicht erteilt",
        "consent_withdrawn": "widerrufen",
        "consent_version": "Fassung des Textes: {version}",
        "consent_from": "IP-Adresse {ip}; Browser: {user_agent}",
        "consent_text": "Der genaue Text",
        "kind_disclaimer": "Haftungsausschluss gelesen",
        "kind_health_data": "Verarbeitung Ihrer Gesundheitsdaten",
        "kind_marketing": "Neuigkeiten per E-Mail",
        "emails_heading": "E-Mails, die wir Ihnen geschickt haben",
        "emails_none": "Noch keine.",
        "email_sent": "gesendet am {date}",
        "email_waiting": "wartet auf den Versand",
        "email_failed": "konnte nicht zugestellt werden",
        "email_cancelled": "storniert",
        "download_heading": "Ihre Daten herunterladen",
        "download_text": "Eine Datei (JSON) mit allem, was auf dieser Seite steht.",
        "download_button": "Meine Daten herunterladen",
        "marketing_heading": "Neuigkeiten per E-Mail",
        "marketing_on": (
            "Sie haben eingewilligt, gelegentlich Neuigkeiten von uns per E-Mail zu erhalten."
        ),
        "marketing_off": "Sie erhalten keine Neuigkeiten von uns per E-Mail.",
        "marketing_button": "Meine Einwilligung zu Neuigkeiten per E-Mail widerrufen",
        "marketing_done": (
            "Erledigt: Ihre Einwilligung zu Neuigkeiten per E-Mail ist widerrufen, und der "
            "Widerruf ist bei Ihren Einwilligungen festgehalten."
        ),
        "erase_heading": "Ihre Anfrage löschen",
        "erase_text": (
            "Damit widerrufen Sie Ihre Einwilligung zur Verarbeitung Ihrer Gesundheitsdaten und "
            "löschen Ihre Anfrage: Ihren Namen, Ihre Kontaktdaten und alles, was Sie geschrieben "
            "haben. Noch nicht versendete E-Mails werden storniert, und wir bitten den "
            "Vermittler, Ihre Anfrage auch bei sich zu löschen. Als Nachweis, wozu Sie wann "
            "eingewilligt haben, behalten wir nur die Referenz, die Daten, den Status, Ihr Land "
            "und die Aufzeichnung Ihrer Einwilligungen, ohne Ihre IP-Adresse und Ihren Browser. "
            "Sie erhalten eine letzte E-Mail zur Bestätigung. Das kann nicht rückgängig gemacht "
            "werden."
        ),
        "erase_confirm": "Ich verstehe, dass meine Anfrage endgültig gelöscht wird.",
        "erase_confirm_missing": (
            "Kreuzen Sie das Kästchen an, um zu bestätigen, dass Ihre Anfrage gelöscht werden soll."
        ),
        "erase_button": "Meine Anfrage löschen",
        "erased_title": "Diese Anfrage wurde gelöscht",
        "erased_text": (
            "Die personenbezogenen Daten der Anfrage {reference} wurden am {date} gelöscht. Wir "
            "behalten nur die Referenz, die Daten, den Status, das Land und die Aufzeichnung der "
            "Einwilligungen, als Nachweis."
        ),
        "label_reference": "Referenz",
        "label_created_at": "Eingegangen",
        "label_status": "Status",
        "label_full_name": "Name",
        "label_facilitator": "Vermittler",
        "label_responded_at": "Erste Antwort eines Vermittlers",
        "label_overdue_since": "Antwort des Vermittlers überfällig seit",
        "label_source": "Gesendet über",
        "label_referrer": "Die Seite, von der Sie kamen",
        "status_new": "eingegangen",
        "status_contacted": "der Vermittler hat Sie kontaktiert",
        "status_quoted": "Angebot gesendet",
        "status_won": "abgeschlossen (Behandlung vereinbart)",
        "status_lost": "abgeschlossen",
        "status_spam": "abgeschlossen",
        "status_duplicate": "abgeschlossen (Doppel einer anderen Anfrage)",
        "source_form": "das Angebotsformular",
        "source_api": "die Website eines Partners",
        "not_routed": "keiner",
        "notice_link": "Wie wir mit personenbezogenen Daten umgehen",
        "new_link_expired": "Dieser Link ist abgelaufen",
        "new_link_invalid": "Dieser Link funktioniert nicht",
        "new_link_title": "Ein neuer Link zu Ihrer Anfrage",
        "new_link_text": (
            "Geben Sie die E-Mail-Adresse ein, die Sie für Ihre Anfrage verwendet haben. Wenn "
            "wir eine Anfrage von dieser Adresse haben, schicken wir einen neuen Link dorthin."
        ),
        "new_link_label": "E-Mail-Adresse",
        "new_link_button": "Neuen Link senden",
        "new_link_bad_address": (
            "Geben Sie eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de."
        ),
        "new_link_too_many": (
            "In der letzten Stunde wurden von hier oder für diese Adresse zu viele neue Links "
            "angefordert. Bitte versuchen Sie es in einer Stunde erneut."
        ),
        "new_link_sent_title": "Bitte sehen Sie in Ihre E-Mails",
        "new_link_sent": (
            "Wenn wir eine Anfrage von dieser Adresse haben, ist ein neuer Link unterwegs. Das "
            "kann einige Minuten dauern; sehen Sie bitte auch im Spam-Ordner nach."
        ),
        "greeting_plain": "Guten Tag,",
        "link_subject": "Ihr persönlicher Link zu Ihrer Anfrage",
        "link_intro": (
            "Sie haben einen neuen Link zu Ihrer persönlichen Seite angefordert, auf der Sie "
            "einsehen, herunterladen oder löschen können, was wir zu Ihrer Anfrage speichern. "
            "Der Link gilt {days} Tage:"
        ),
        "link_request": "Anfrage {reference} vom {date}:",
        "link_not_you": (
            "Falls Sie ihn nicht angefordert haben, können Sie diese E-Mail ignorieren: Es "
            "ändert sich nichts."
        ),
        "erased_subject": "Ihre Anfrage {reference} wurde gelöscht",
        "erased_intro": (
            "Wie gewünscht haben wir die personenbezogenen Daten Ihrer Anfrage {reference} "
            "gelöscht: Ihren Namen, Ihre Kontaktdaten und alles, was Sie geschrieben haben. "
            "Wir haben den Vermittler gebeten, sie ebenfalls zu löschen."
        ),
        "erased_kept": (
            "Als Nachweis, wozu Sie wann eingewilligt haben, behalten wir nur die Referenz, die "
            "Daten, den Status, Ihr Land und die Aufzeichnung Ihrer Einwilligungen, ohne Ihre "
            "IP-Adresse und Ihren Browser."
        ),
        "erased_last": "Dies ist die letzte E-Mail, die Sie von uns zu dieser Anfrage erhalten.",
    },
}
