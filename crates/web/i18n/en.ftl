# The trust portal's own interface, in English.
portal-title = { $org } Trust Center
portal-offerings = Certifications and attestations
portal-no-offerings = Nothing is published yet.
portal-current = { $count ->
    [0] no current report or certificate
    [one] one current report or certificate
   *[other] { $count } current reports and certificates
}
portal-language = Language
portal-home = Trust Center home
overview = Overview
relation = { $org } and { $offering }
in-scope = In-scope services
all-services = All services
audits = Audits, reports and certificates
audit-cycle = Audit cycle
cycle-soc = { $program }: reports cover { $months }-month periods ending { $ends }, issued within { $weeks } weeks of the end of each period.
cycle-iso = Certificates are valid for three years, with surveillance audits in the first and second years and a recertification audit before expiry.
report-line = { $kind } · { $period } · { $firm }
issued-on = issued { $date }
opinion = opinion: { $opinion }
certificate-line = { $standard } · certificate { $number } · { $body }
valid-until = valid { $from } to { $until }
next-audit = next audit ({ $which }): { $date }
scope = Scope
bridge-letter = Bridge letter covering { $from } to { $until }
download = Download
restricted = Available to customers under NDA
nothing-current = No current report or certificate.
faq = Frequently asked questions
resources = Resources
verify-note = Every document lists its SHA-256, so the copy you hold can be compared with the one published here.
op-unqualified = unqualified
op-qualified = qualified
op-adverse = adverse
op-disclaimer = disclaimer of opinion
ms-surveillance-1 = first surveillance audit
ms-surveillance-2 = second surveillance audit
ms-recertification = recertification audit
verify-link = How to check a document
verify-title = Check that a document is authentic and current
verify-intro = For every offering, { $org } publishes a manifest: the list of its current documents with their SHA-256, signed with { $org }'s Ed25519 key. A document whose SHA-256 is in a manifest with a valid signature is one { $org } published and still stands behind.
verify-hash = 1. Compute the SHA-256 of the file you hold: sha256sum report.pdf (Linux), shasum -a 256 report.pdf (macOS) or certutil -hashfile report.pdf SHA256 (Windows), and look for it in the manifest.
verify-attest = 2. Or let Attest check the signature and the hash in one step:
verify-key = { $org }'s public key (compare it with the one { $org } gave you):
verify-manifests = Manifests
