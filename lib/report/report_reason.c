/*
 * report_reason.c: why a recipient bounced, in Sisimai's reason taxonomy
 * (docs/delivery.md lists the names), decided in this order
 * (rp_reason_classify; docs/internals/report.md, "Reasons", has the details):
 *
 *   1. an enhanced status code whose meaning a provider documents
 *      (report_codes.c), then the RFC 3463 codes narrow enough to beat any
 *      wording (X.1.2, X.1.6, X.2.2, X.3.4, X.7.20-26, ...);
 *   2. the diagnostic text, against a table of phrase families (reason,
 *      phrases, source) checked family by family, most specific first
 *      ("sender address rejected: user unknown" is about the sender). Each
 *      family names its documentation (an MTA's messages, a provider's list,
 *      an RFC's texts, Sisimai's reason documentation) or is marked as
 *      written against the shared corpus (source NULL);
 *   3. the rest of the status codes (RFC 3463 / the IANA registry), then the
 *      reply code alone (556 notaccept, 500-504 syntaxerror, a 5xx at RCPT
 *      userunknown), else onhold / undefined.
 *
 * Broad codes (5.1.1, 5.7.1) come after the words: many servers answer them
 * for everything, while the words name the cause.
 *
 * Contract: pure functions over NUL-terminated lower-cased text; reasons are
 * static strings. rp_rule_trace (report_int.h) is a measuring hook, NULL in
 * normal use.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_int.h"

/* The most enhanced codes read from one reply text for its narrowest one. */
#define RP_STATUS_SCAN_MAX 8

/* Texts up to this size are flattened on the stack, longer ones on the heap. */
#define RP_REASON_FLAT_STACK 4096

struct rp_reason_rule {
    const char *reason;
    const char *const *phrases; /* lower-case, NULL-terminated */
    /* Where the phrases are documented (an MTA's manual, a provider's list
     * of its errors, an RFC's reply texts). NULL for the entries written
     * against the shared corpus, which bench/bounces-cv switches off for
     * the fold that alone shows them. */
    const char *source;
};

#define P(...)                                                                                     \
    (const char *const[])                                                                          \
    {                                                                                              \
        __VA_ARGS__, NULL                                                                          \
    }

/* The order of this table is the order of precedence when a text matches
 * phrases of several reasons. */
static const struct rp_reason_rule rp_rules[] = {
    /* A named local failure outranks the expiry it caused. */
    {"systemerror", P("unable to contact ldap server"),
     "Sisimai::Reason::SystemError documentation: qmail-ldap 'Unable to contact LDAP server. "
     "(#4.4.3)'"},
    /* A local delivery system's own failure (an I/O error, a maildir it
     * cannot open or switch to, Exim's local problem), named before any
     * expiry or network words. */
    {"systemerror",
     P("temporary local problem", "input/output error", "i/o error", "can not open new email file"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): Exim '451 Temporary local problem "
     "- please try "
     "later', Sendmail '451 4.0.0 I/O error', vpopmail 'Unable to switch to ...: input/output "
     "error. (#4.3.0)', 'can not open new email file errno=13'"},
    /* Exim's router found that the destination routes back to itself (the
     * "self" option's failure): a configuration error of the destination. */
    {"systemerror",
     P("lowest numbered mx record points to local host", "remote host address is the local host"),
     "Exim source, routers/rf_self_action.c: 'lowest numbered MX record points to local host', "
     "'remote host address is the local host' (Exim specification, the generic router option "
     "self)"},
    /* The recipient (or its settings) refuses the message: a filter, not
     * a block of the sending host, although "refused" is a block's word. */
    {"filtered", P("refused to receive this mail", "does not accept email in non-"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): user_reject '553 User refused to "
     "receive this mail.', "
     "latin_only 'The user does not accept email in non-Western (non-Latin) character sets.'"},
    /* The envelope sender refused (sender verification, a sender outside
     * the server's domains), named before the generic "blocked". */
    {"rejected",
     P("sender is rejected", "verify mailfrom failed", "sender email is not in my domain"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): antispam '554 sender is rejected: "
     "0,mx20,...', '550 "
     "Verify mailfrom failed,blocked'; user_reject '501 ... Sender email is not in my domain'"},
    /* Yandex answers it for a recipient account blocked for breaking its
     * user agreement: the account, not a policy about the message. */
    {"suspend", P("policy rejection on the target address"),
     "Yandex Mail help, 'The recipient's account has been blocked due to User Agreement "
     "violations': 'Policy rejection on the target address'"},
    /* Amazon SES did not send: the address is on its suppression list (the
     * words name the list before any "invalid address" they give as why). */
    {"suppressed",
     P("has suppressed sending to this address", "on the suppression list for your account",
       "onaccountsuppressionlist"),
     "Amazon SES Developer Guide, notification contents: bounceSubType Suppressed ('Amazon SES "
     "has suppressed sending to this address because it has a recent history of bouncing as "
     "an invalid address') and OnAccountSuppressionList ('... it is on the suppression list "
     "for your account')"},
    /* The other subtypes of an SES bounce notification, read when the
     * notification gives no diagnostic words of its own. */
    {"mailboxfull", P("mailboxfull"), "Amazon SES bounceSubType MailboxFull"},
    {"mesgtoobig", P("messagetoolarge"), "Amazon SES bounceSubType MessageTooLarge"},
    {"userunknown", P("noemail"), "Amazon SES bounceSubType NoEmail (the address does not exist)"},
    /* Postfix's marker for a report it could not write: nothing is known. */
    {"undefined", P("delivery report unavailable")},
    {"policyviolation", P("content presents a potential security issue"),
     "Gmail '552 5.7.0 This message was blocked because its content presents a potential "
     "security issue' (SMTP errors and codes; the content and attachment guidelines)"},
    {"policyviolation", P("content presents a potential")},
    /* The sender's own sending quota or rate (an ESP's or a provider's limit
     * on what one account may send), named before the mailbox quotas below:
     * "quota exceeded" here is not the recipient's mailbox. */
    {"speeding",
     P("throttling failure", "daily message quota exceeded", "maximum sending rate exceeded",
       "submission quota", "daily limit for message recipients", "per hour message receive limit",
       "exceeded permitted limits", "sender rate exceeds"),
     "Amazon SES Developer Guide, 'Errors related to the sending quotas for your Amazon SES "
     "account': '454 Throttling failure: Maximum sending rate exceeded', '454 Throttling failure: "
     "Daily message quota exceeded'; Exchange Online NDR table: 5.2.2 'Submission quota "
     "exceeded', 'the sender's submission quota was exceeded', 5.1.90 'reached your daily limit "
     "for message recipients', 5.2.121/5.2.122 'Recipient's per hour message receive limit "
     "... exceeded', 5.7.508 'has exceeded permitted limits'; Exim specification, ratelimit "
     "example 'Sender rate exceeds $sender_rate_limit messages per $sender_rate_period'"},
    /* A full mailbox is the named cause of the expiry it leads to (Exim:
     * "mailbox is full: retry timeout exceeded"). */
    /* Postfix local(8) past mailbox_size_limit: the mailbox file cannot
     * grow ("File too large" is the errno text, not the message's size). */
    {"mailboxfull", P("error writing message: file too large"),
     "Postfix local(8) with mailbox_size_limit (postconf(5)): 'cannot update mailbox /var/mail/u "
     "for user u. error writing message: File too large' (logged dsn=5.2.2); PHPMailer-BMH rule "
     "samples (GPL), class 'full': 'cannot append message to destination file ...: error writing "
     "message: File too large'"},
    {"mailboxfull",
     P("mailbox full", "mailbox is full", "over quota", "quota exceeded", "quotaexceeded"),
     "RFC 3463 X.2.2 'Mailbox full'; Gmail 4.2.2/5.2.2 'is over quota'; Exchange "
     "'QuotaExceededException'; Dovecot 'Quota exceeded'; Postfix virtual(8)"},
    /* German providers' own quota texts, as a hosting provider's list of
     * its customers' typical bounces quotes them. */
    {"mailboxfull",
     P("over storage quota", "exhausted allowed storage", "speichervolumen",
       "too many messages on the server"),
     "sitepackage.de 'Typische Fehlermeldungen bei Unzustellbarkeit': T-Online '552 5.2.2 Over "
     "STORAGE quota'; Web.de 'Benutzer hat das Speichervolumen ueberschritten. / User has "
     "exhausted allowed storage space.', 'User has too many messages on the server.'"},
    /* Ipswitch IMail's reply for a recipient whose mailbox is at its size limit. */
    {"mailboxfull", P("mailbox exceeds allowed size"),
     "Ipswitch IMail 'User mailbox exceeds allowed size' (Saint Xavier University's IMail help, "
     "sxu.edu/info_svcs/imail/fullmailbox.asp: 'The IMail user ... has a full mailbox')"},
    {"mailboxfull", P("mailbox space not enough", "recipient storage full"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): full 'ErrMsg=Mailbox space not "
     "enough (space limit is 10240KB)', "
     "'552 recipient storage full, try again later'"},
    {"mailboxfull", P("mailbox is full", "over quota", "quota exceeded")},
    /* The retry period ran out: whatever the last attempt said. */
    {"expired",
     P("delivery time expired", "message expired", "queue.expired", "retry timeout exceeded",
       "have been failing for a long time"),
     "RFC 3463 X.4.7; Exchange QUEUE.Expired; Exim 'retry timeout exceeded', 'all hosts ... have "
     "been failing for a long time'"},
    {"expired", P("in the time limit specified", "after a long failure period"),
     "Exchange 2000/2003 NDR 4.4.7 'Could not deliver the message in the time limit specified' "
     "(Microsoft KB 284204); Exim 'retry time not reached for any host after a long failure "
     "period'"},
    {"expired", P("envelope expired"),
     "OpenSMTPD queue.c 'Envelope expired' (the queue's expiry of an envelope)"},
    /* RFC 3463 describes X.4.7 in these words. Ahead of the block family: the RFC's
     * own sentence says "rejecting", and an expiry notice may quote the last
     * attempt's detail after it. */
    {"expired", P("too old"),
     "RFC 3463 X.4.7 'Delivery time expired: The message was considered too old by the "
     "rejecting system'; Mailgun's final delivery status 'Too old' for a message it gave up "
     "retrying (Spam Resource, 'Tuesday Tip: When your message is too old', 2024-12)"},
    {"expired", P("message expired", "queue.expired", "delivery time expired",
                  "retry timeout exceeded", "have been failing for a long time")},
    {"virusdetected",
     P("^virus found", "^infected:", "malware detected", "message contains a virus",
       "infected with a virus"),
     "amavisd-new '554 5.7.0 Reject, ... INFECTED: <name>'; ClamAV 'Virus found'; Exchange Online "
     "Protection 'malware detected'; Sisimai::Reason::VirusDetected documentation"},
    /* "^virus": a word that starts so, not the "antivirus" of a scanner's
     * footer. */
    {"virusdetected", P("^virus", "malware", "infected with", "trojan", "contains a worm",
                        "message contains an attachment of potentially", "dangerous attachment")},
    /* United Internet (1&1/IONOS, GMX, WEB.DE): SPF worded as a policy,
     * and an IP blocked for its delivery record worded as "policy
     * violations" (the sending host, not a rule about the message). */
    {"authfailure", P("reject due to spf policy", "not permitted by the domain owner"),
     "GMX postmaster, error messages: '550 ... Reject due to SPF policy. The originating IP of "
     "the message is not permitted by the domain owner'"},
    {"blocked", P("reject due to policy violations"),
     "1&1/IONOS 'SMTP Error Messages for the 1&1 Mail Server': '421 Reject due to policy "
     "violations' (the IP address of your e-mail server is currently blocked)"},
    {"authfailure",
     P("sender is unauthenticated", "fails to pass authentication checks",
       "does not pass authentication", "dmarc policy", "spf validation", "dkim validation"),
     "Gmail 5.7.26 'the sender is unauthenticated', 5.7.27 SPF; Microsoft 5.7.509 DMARC; "
     "RFC 7489 DMARC"},
    {"authfailure", P("spf check", "spf fail", "spf=fail", "spf validation",
                      "sender policy framework", "failed spf", "spf record", "dkim", "dmarc",
                      "unauthenticated email", "sender authentication", "not authenticated by",
                      "authentication checks", "5.7.23", "5.7.26", "5.7.27", "does not pass spf")},
    {"requireptr",
     P("cannot find your hostname", "cannot find your reverse hostname",
       "does not have a ptr record", "ptr record"),
     "Postfix reject_unknown_client_hostname / reject_unknown_reverse_client_hostname; Gmail "
     "5.7.25 'does not have a PTR record'"},
    /* The client's HELO name refused: the sending host, whatever words
     * ("Host not found", "need fully-qualified hostname") follow. */
    {"blocked", P("helo command rejected"),
     "Postfix reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, "
     "reject_unknown_helo_hostname 'Helo command rejected: ...' (postconf(5))"},
    /* The rDNS family as receiving providers document their refusals of
     * a client without (or with a mismatched) PTR record. */
    {"requireptr",
     P("reverse dns", "rdns", "dns reverse", "sender ip must resolve", "ip name lookup",
       "valid ptr record"),
     "Forpsi (Aruba Cloud) KB a2837 '554 ... no DNS reverse for x.x.x.x'; TOAST.net KB a75 "
     "'Connecting IP must have valid PTR record'; Veraciti support 'IP address does not properly "
     "resolve for reverse DNS lookup', '501 5.7.1 ... Sender IP must resolve'; bobcares '550 No "
     "rDNS entry for x'; CiviCRM's bounce classification patterns (civicrm_data.tpl, AGPL-3.0), "
     "Relay: 'sender ip must resolve', 'ip name lookup'"},
    {"requireptr",
     P("mismatches client ip", "reverse dns", "reverse lookup", "ptr record", "no ptr", "rdns",
       "reverse-dns", "cannot find your hostname", "cannot find your reverse hostname",
       "reverse hostname", "hostname lookup failed", "client host name is not",
       "cannot resolve your address", "unresolvable", "not resolve your", "no reverse",
       "ip name lookup failed", "does not resolve to your ip", "cannot resolve ptr", "5.7.25",
       "ip address has no ptr", "fcrdns", "reverse record", "cannot find your domain name",
       "have no dns ptr", "is not matched with the connected ip", "reject_unknown_client",
       "please resolve dns", "hostname does not match")},
    {"failedstarttls", P("must issue a starttls command first", "tls required"),
     "RFC 3207 '530 Must issue a STARTTLS command first'; Gmail 4.7.0 'TLS required for RCPT "
     "domain'"},
    /* Postfix's own words when its policy demands TLS the peer will not
     * give (smtp_tls_security_level=encrypt). */
    {"failedstarttls", P("tls is required", "refused to start tls", "tls engine is unavailable"),
     "Postfix smtp(8) (smtp_proto.c), TLS enforced: 'TLS is required, but was not offered by host "
     "H', 'TLS is required, but host H refused to start TLS: ...', 'TLS is required, but our TLS "
     "engine is unavailable'"},
    {"failedstarttls", P("starttls-not-supported", "must support tls to receive mail"),
     "Exchange Online NDR table 4.7.321/5.7.321 'starttls-not-supported: Destination mail server "
     "must support TLS to receive mail.'"},
    {"failedstarttls",
     P("does not support tls", "does not support starttls", "starttls is required",
       "must issue a starttls", "tls is required", "requires starttls", "encryption required",
       "tls required", "starttls failed", "failed to negotiate tls", "tls negotiation failed")},
    {"notcompliantrfc", P("multiple addresses in from"),
     "Gmail '550 5.7.1 Messages with multiple addresses in From: header are not accepted' (SMTP "
     "errors and codes)"},
    {"notcompliantrfc", P("header syntax"),
     "Exim's default configuration (src/src/configure.default, acl_check_data): 'deny !verify = "
     "header_syntax message = header syntax' (badly formed addresses in the header lines)"},
    {"notcompliantrfc",
     P("rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "not rfc compliant",
       "multiple addresses in from", "duplicate header", "multiple from", "is not rfc compliant",
       "not compliant with rfc", "header fields", "non-compliant with rfc", "not rfc-compliant",
       "message not rfc")},
    {"norelaying", P("unauthorized relay", "not permitted to relay through this server"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): command_reject '500 Unauthorized "
     "relay msg rejected', "
     "'... is currently not permitted to relay through this server'"},
    {"norelaying", P("allowed to be relayed"),
     "OVHcloud e-mail client guides: '553 sorry, that domain isn't allowed to be relayed thru this "
     "MTA (#5.7.1)' when the client did not authenticate; qmail-smtpd's SMTP AUTH patches: "
     "'... relayed thru this MTA without authentication'"},
    {"norelaying",
     P("relay access denied", "relaying denied", "unable to relay", "relay not permitted",
       "allowed rcpthosts", "relaying not allowed", "email address is not verified",
       "allowed to relay"),
     "Postfix reject_unauth_destination 'Relay access denied'; Sendmail 'Relaying denied'; "
     "Exchange 'Unable to relay'; qmail 'isn't in my list of allowed rcpthosts'"
     "; Amazon SES '554 Message rejected: Email address is not verified' (the sending identity may "
     "not relay); KumoMTA community bounces.toml RoutingErrors 'isn't allowed to relay'"},
    {"norelaying",
     P("not configured to relay mail", "relay not permitted", "relay access denied",
       "unable to relay", "relayed mail to"),
     "CiviCRM's bounce classification patterns (civicrm_data.tpl, AGPL-3.0), Relay: 'not "
     "configured to relay mail', 'relay (not permitted|access denied)', 'relayed mail to .+? not "
     "allowed', 'unable to relay'"},
    {"norelaying",
     P("email address is not verified", "not configured to relay", "relay access denied",
       "relaying denied", "relay not permitted", "not permitted to relay", "relaying not allowed",
       "unable to relay", "we do not relay", "relay denied", "not allowed to relay", "no relaying",
       "relay prohibited", "relaying mail to", "isn't in my list of allowed rcpthosts",
       "in my list of allowed rcpthosts", "relay not allowed", "relaying is prohibited",
       "is not permitted to relay", "insecure mail relay", "not a gateway", "not local host",
       "not an open relay", "that domain isn't in my list", "relaying to",
       "mail server is not responsible")},
    {"rejected", P("sender did not verify", "could not complete sender verify"),
     "Exim specification, ACL examples: 'require message = Sender did not verify'; Exim source "
     "acl.c: 'Could not complete sender verify callout' (a sender verification deferred)"},
    {"rejected",
     P("requires valid sender domain", "envelope sender domain must exist",
       "sender domain resolve fail", "sender address rejected", "sender verify failed",
       "bad sender's mailbox address", "bad sender's system address", "badmailfrom",
       "but sender was rejected"),
     "Postfix smtpd 'Sender address rejected'; Exim 'sender verify failed'; RFC 3463 X.1.7, "
     "X.1.8; qmail control/badmailfrom; AT&T '550 [permfail] ... requires valid sender domain'; "
     "KumoMTA community bounces.toml 'sorry, your envelope sender domain must exist', 'Sender "
     "Domain Resolve Fail'"
     "; qmail-remote 'Connected to ... but sender was rejected' (Sisimai::Reason::Rejected "
     "documentation)"},
    {"rejected",
     P("please provide a valid from", "'send mail as'", "send mail as",
       "sending to/from an address that has been blacklisted", "the group you tried to contact",
       "permission to post", "sender address rejected", "sender rejected", "sender was rejected",
       "domain of sender address", "sender domain", "sender verify failed", "invalid sender",
       "sender not allowed", "unknown sender", "bad sender", "sender is not allowed",
       "envelope sender", "sender denied", "address verification failed", "return path",
       "return-path", "mail from address", "your email address has been blocked",
       "sender address has null mx", "not allowed to send from", "rejected: unknown address",
       "sender blocked", "from address", "sender is in my badmailfrom", "badmailfrom",
       "sender address is", "the sender's domain", "the senders domain", "sender's domain",
       "reject sender", "senders are not allowed", "sender verification", "domain of sender",
       "sender verify", "we do not accept mail from", "501 5.1.8", "553 5.1.8", "5.1.8", "5.1.7",
       "access denied for sender", "this sender is not")},
    /* Sendmail's "Deferred: Connection refused by host" is a TCP refusal
     * (ECONNREFUSED), not a policy block. */
    {"networkerror", P("malformed or unexpected name server reply", "deferred: connection refused"),
     "Postfix's resolver error texts ('Name service error for name=... type=MX: Malformed or "
     "unexpected name server reply'); Sendmail's deferral 'Deferred: Connection refused by "
     "<host>'"},
    {"notaccept", P("null mx", "nullmx", "does not accept mail"),
     "RFC 7505 null MX; Postfix 'does not accept mail (nullMX)'"},
    /* Yahoo!'s [PH01] refusal names policy; its "not accepted" is not the
     * destination refusing all mail (notaccept, below). */
    {"policyviolation", P("not accepted for policy reasons"),
     "Yahoo! 'SMTP error codes': '554 Message not allowed - [PH01] Email not accepted for "
     "policy reasons', 5.7.9"},
    /* A domain without MX: the tuned half (Sisimai's labels) files these
     * MTAs' own texts as notaccept, not hostunknown (both hard). */
    {"notaccept", P("couldn't find a mail exchanger", "no mx found"),
     "qmail-remote 'Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)'; OpenSMTPD "
     "mta.c 'No MX found for domain'"},
    {"notaccept",
     P("couldn't find a mail exchanger", "no mx found", "indicated no smtp service",
       "mx or srv record indicated", "does not accept mail", "accepts no mail", "null mx",
       "no mail accepted", "mail not accepted", "domain does not receive mail", "not accept mail",
       "does not receive email", "not accepting mail", "will not accept mail")},
    {"toomanyconn",
     P("too many connections", "too many concurrent", "connection rate limit exceeded",
       "too many sessions opened", "concurrent server connections"),
     "Postfix anvil 'Error: too many connections from'; Microsoft 'too many concurrent "
     "connections'; Sisimai::Reason::TooManyConn documentation ('452 4.3.2 Connection rate limit "
     "exceeded'); Comcast '421 - [Too many sessions opened]' (postmaster.comcast.net); Exchange "
     "'421 4.3.2 The maximum number of concurrent server connections has exceeded a limit'"},
    {"toomanyconn", P("connection frequency limited"),
     "QQ Mail / Tencent Exmail '550 Connection frequency limited' (the sending server's IP "
     "over QQ's connection limits; smtp.codes/qq, service.exmail.qq.com help)"},
    {"toomanyconn",
     P("connection frequency limited", "too many connections", "too many concurrent",
       "connection limit", "too many simultaneous", "maximum number of connections",
       "too many smtp sessions", "connection rate limit", "too many open connections")},
    /* QQ's per-sender, per-domain and per-IP sending rates (its help pages:
     * messages per minute, hour, day); "Suspected spam sender" is the
     * sender's reputation, not the message; Yandex blocks a sending host
     * "by spam statistics". */
    {"speeding", P("sender frequency limited", "domain frequency limited", "ip frequency limited"),
     "QQ Mail / Tencent Exmail '550 Sender frequency limited', '550 Domain frequency limited', "
     "'550 Ip frequency limited' (smtp.codes/qq, service.exmail.qq.com help no=1000723, 1000725)"},
    {"badreputation", P("suspected spam sender"),
     "QQ Mail '550 Suspected spam sender.' (a large amount of spam from the domain or mail "
     "operator; smtp.codes/qq)"},
    /* Comcast's block codes name the sending IP's record or listing (its
     * behaviour, Spamhaus, Cloudmark CSI, SenderScore, a residential
     * range), not the message, although their wording says "spam". */
    {"blocked",
     P("bl000000", "bl000001", "bl000010", "bl000011", "bl000100", "bl000101", "bl000110",
       "bl000111", "es000001", "es000010"),
     "Comcast postmaster, 'Mail delivery error codes' (postmaster.comcast.net/mail-error-codes): "
     "BL000000 'attempted from addresses that sent mail in patterns characteristic of spam', "
     "BL000001-BL000111 addresses listed on Spamhaus Zen, Cloudmark CSI, SenderScore, ES000001 "
     "and ES000010 dynamic/residential space"},
    {"blocked", P("blocked by spam statistics"),
     "Yandex Mail help, 'The message looks like spam': 'Blocked by spam statistics' (the "
     "sending host blocked for 24 hours)"},
    {"spamdetected", P("mail content denied"),
     "QQ Mail '550 Mail content denied.' (smtp.codes/qq, service.exmail.qq.com help no=1000726)"},
    /* Refusals that name the content as spam outrank the "blocked" of
     * their wording ("Blocked Using Spam Pattern"), and a listed URL of the
     * message is content, where a listed sending IP is the client. */
    {"spamdetected",
     P("spam pattern", "spam content", "spamtext", "url in this email", "rejected as spam",
       "content rejected due to spam", "message contains spam"),
     "KumoMTA assets/community/bounces.toml SpamContent (Apache-2.0): 'Blocked Using Spam "
     "Pattern, Your Message May Contain The Spam Contents', 'REJECTED - spamtext', 'A URL in "
     "this email ... is listed on', 'Message contains Spam Content' (blueyonder), 'message "
     "content rejected due to spam' (icloud.com); SpamBlock 'Message rejected as spam'"},
    /* A block list named "... Reputation" is still a block list. */
    {"blocked", P("blocked using"),
     "Postfix reject_rbl_client 'Client host [...] blocked using <list>'; Barracuda '554 Service "
     "unavailable; Client host [...] blocked using Barracuda Reputation' (Barracuda Email "
     "Security Gateway, SMTP error codes)"},
    {"badreputation", P("user complaints", "tss04", "reputation", "poor sender", "low sender score",
                        "sender score")},
    {"speeding",
     P("receiving mail too quickly", "receiving mail at a rate", "too many messages from",
       "rate limit"),
     "Gmail 450 4.2.1; Postfix smtpd_client_message_rate_limit 'Error: too many messages from'"},
    {"speeding", P("deferred due to excessive volume"),
     "Apple iCloud '421 4.7.1 Messages to ... deferred due to excessive volume' "
     "(smtp.codes/icloud)"},
    {"speeding",
     P("too many recipients this hour", "sent to too many recipients", "rate limit",
       "too many messages", "sending rate", "throttl", "rate control", "exceeded the rate",
       "rate that is too high", "too many emails", "too fast", "receiving mail at a rate",
       "unusual rate", "temporarily rate limited", "exceeded sending limits", "sending limit")},
    {"mailererror",
     P("command died with status", "command output:", "child process of", "procmail", "x-unix"),
     "Postfix pipe(8), local(8) 'Command died with status', 'Command output:'; Exim 'Child "
     "process of ... transport returned'"
     "; procmail(1) as Postfix's mailbox_command; the 'X-Unix' Diagnostic-Code type that "
     "Sendmail and Postfix write for a local delivery program's failure"},
    /* Exim introduces the output a pipe transport returns to the sender
     * with this line in its bounce (the delivery failed because of it). */
    {"mailererror", P("text was generated during the delivery attempt"),
     "Exim specification, 'Customizing bounce and warning messages': the third item of "
     "bounce_message_file introduces any text from pipe transports returned to the sender, "
     "by default 'The following text was generated during the delivery attempt(s):'; the pipe "
     "transport's return_output ('the delivery is deemed to have failed ... and the output is "
     "returned in the bounce message')"},
    /* Postfix pipe(8) and local(8) quote a delivery command's output after
     * "Command output:" (Postfix manual pages). */
    {"mailererror",
     P("procmail", "x-unix", "pipe to", "command died", "exit code", "command output:")},
    {"mailboxfull",
     P("mailbox has exceeded the limit", "exceeds allowed message count", "recipient storage full",
       "no space left for this user", "not able to receive more mail", "full mailbox",
       "quota has been exceeded", "quota violation", "disk quota", "storage quota"),
     "CiviCRM's bounce classification patterns (civicrm_data.tpl, AGPL-3.0), Quota: 'mailbox has "
     "exceeded the limit', 'exceeds allowed message count', 'recipient storage full', 'no space "
     "left for this user', 'not able to receive more mail', 'full mailbox', 'quota (for the "
     "mailbox )?has been exceeded', 'quota (usage|violation|exceeded)', '(disk|storage) quota'"},
    {"mailboxfull",
     P("mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage",
       "mailbox size limit", "user is over", "disk quota", "mailbox exceeded", "full mailbox",
       "too much mail data", "maildir over quota", "account is full", "out of storage",
       "exceeds quota", "over the quota", "would exceed mailbox", "quota full", "storage full",
       "inbox is full", "box is full", "mailfolder is full", "not enough storage space",
       "exceeded its quota", "exceed the quota", "mailbox has exceeded", "mailbox quota",
       "quota exceed", "over its quota", "insufficient storage", "exceeds the storage",
       "mailbox is over", "is over quota", "recipient's mailbox is full", "mail box full",
       "mailsize limit exceeded", "user's mailbox is full", "exceeded the storage",
       "mailbox limit exceeded", "would exceed quota", "5.2.2", "4.2.2", "quota",
       "over its storage")},
    {"hostunknown",
     P("host or domain name not found", "host unknown", "couldn't find any host named",
       "couldn't find any host by that name", "all relevant mx records point to non-existent hosts",
       "unrouteable mail domain", "nonexistentdomain", "bad destination system address",
       "domain name not found", "unrouteable address", "no such domain"),
     "Postfix 'Host or domain name not found'; Sendmail 'Host unknown'; qmail 'couldn't find any "
     "host named' (#5.1.2); Exim; Exchange SMTPSEND.DNS.NonExistentDomain; RFC 3463 X.1.2; Gmail "
     "'DNS Error: Domain name not found'"
     "; Exim 'Unrouteable address'; Courier 'No such domain' (Sisimai::Reason::HostUnknown "
     "documentation)"},
    {"hostunknown",
     P("all host address lookups failed permanently", "domain does not exist",
       "dns lookup failure: host", "host name lookup failure"),
     "Exim transports/smtp.c 'all host address lookups failed permanently'; OpenSMTPD mta.c "
     "'Domain does not exist' (its permanent MX lookup failure); "
     "DragonFly Mail Agent net.c 'DNS lookup failure: host %s not found'; Sendmail err.c 'Name "
     "server: host name lookup failure' (TRY_AGAIN: temporary, so networkerror with its 4xx)"},
    {"hostunknown",
     P("the account or domain may not exist", "unrouteable address", "domain is not reachable",
       "host unknown", "unknown host", "domain not found", "name service error", "host not found",
       "no such domain", "domain does not exist", "unknown domain", "unrouteable mail domain",
       "domain name not found", "host or domain name not found",
       "mx records point to non-existent hosts", "name or service not known",
       "host name lookup failure", "domain is not found", "domain could not be found",
       "recipient domain not found", "not a valid domain", "domain isn't registered",
       "dns error: dns type", "dns error: domain", "no such host", "domain name error",
       "illegal host", "host does not exist", "unknown mail domain",
       "the domain name in the email address is incorrect", "host not reachable",
       "domain lookup failed", "nxdomain", "dns lookup failure: host")},
    /* Yahoo! writes its "dd" prefix for disabled accounts too: "This account
     * has been disabled or discontinued", "This mailbox is disabled (554.30)"
     * (Yahoo, "SMTP error codes", senders.yahooinc.com). */
    {"suspend", P("account has been disabled or discontinued", "this mailbox is disabled"),
     "Yahoo SMTP error codes: 554 'This account has been disabled or discontinued', 554.30"},
    {"suspend",
     P("inactive user", "account expired", "user status is locked", "disabled with mta service",
       "is a deactivated mailbox", "user is inactive"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): inactive '550 <a@b>: inactive "
     "user', '550 account expired', "
     "'550 <a@b>: User status is locked.', '551 <a@b> is a deactivated mailbox', '553 user is "
     "inactive (eyou mta)'; unknown '550 <name> is now disabled with MTA service.'"},
    /* Inactive-mailbox wordings that other senders collected from many
     * receivers (KumoMTA's community bounce rules, "InactiveMailbox"). */
    {"suspend",
     P("mailbox currently suspended", "user disabled", "account is not active",
       "account not activated", "account closed", "this account is suspended",
       "account is suspended", "account has been suspended"),
     "AT&T/BellSouth '550 [suspend] Mailbox currently suspended' (rbl.att.net block_enduser); "
     "Coremail 'user disabled' (icoremail.vip bounce texts); "
     "KumoMTA assets/community/bounces.toml InactiveMailbox (Apache-2.0): 'Account is not "
     "active', 'User account not activated', 'Account Closed, Please Remove' (comcast.net), "
     "'this account is suspended'"},
    /* Yahoo!'s "dd" prefix marks a really unknown user; Office 365's directory
     * check refuses unknown recipients as "Access denied". */
    {"userunknown", P("delivery error: dd", "recipient address rejected: access denied"),
     "Yahoo! 'SMTP error codes' ('554 delivery error: dd This user doesn't have a yahoo.com "
     "account'); Exchange Online NDR 5.4.1 'Recipient address rejected: Access denied' (the "
     "directory-based edge blocking of unknown recipients)"},
    {"userunknown",
     P("unavailable mail user", "local server don't exists that user", "not user of this server",
       "recipient does not have an account"),
     "Coremail support, bounce texts 'unavailable mail user', 'local server don't exists that "
     "user', 'not user of this server', 'recipient does not have an account' (icoremail.vip)"},
    {"userunknown",
     P("does not have an account here", "not a member of domain", "recipient cannot be verified",
       "recipient address no longer exists", "unknown local-part"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): unknown '550-I'm sorry but a@b "
     "does not have an account "
     "here', '550 User not a member of domain', '550-\"The recipient cannot be verified', '553 "
     "5.3.0 ... Recipient address no longer exists', Exim 'unknown local-part \"a\" in domain "
     "\"b\"'"},
    /* au (ezweb) and Yahoo! Japan answer a filtered address with a bare
     * "User unknown" of a distinctive shape. */
    {"filtered", P("550 : user unknown", "550: : user unknown", "this user doesn't have a")},
    {"userunknown",
     P("user unknown", "unknown user", "no such user", "no mailbox here by that name",
       "recipnotfound", "recipientnotfound", "email address you entered couldn't be found",
       "the recipient name is not recognized", "account that you tried to reach does not exist",
       "not listed in domino directory", "not listed in public name & address book",
       "user doesn't exist", "mailbox does not exist", "invalid final delivery userid",
       "bad destination mailbox address", "requested action not taken: mailbox unavailable",
       "mailbox name not allowed", "recipient address rejected: user unknown"),
     "Postfix local(8)/smtpd 'User unknown in ... table'; Sendmail 'User unknown'; qmail "
     "(#5.1.1); Exim 'Unknown user'; Exchange RESOLVER.ADR.RecipNotFound and 2000/2003 'The "
     "recipient name is not recognized'; Gmail 5.1.1; IBM Domino; Dovecot; Cyrus; IMail; RFC "
     "3463 X.1.1; RFC 5321 550/553 reply texts"},
    {"userunknown", P("unknown local user"),
     "Exim specification, the generic router option cannot_route_message: 'cannot_route_message "
     "= Unknown local user' on the final router that checks for local users"},
    /* Another bounce parser's documented "invalid address" family, and
     * Postfix's answer at DATA when it refused every recipient. */
    {"userunknown",
     P("no valid recipients", "unknown or illegal user", "user not found", "address does not exist",
       "addressee unknown", "unknown recipient", "recipient does not exist", "unregistered address",
       "unrecognized recipient", "invalid recipient", "invalid mailbox", "no such recipient",
       "no such mailbox", "mailbox not found", "unknown local part", "user does not exist",
       "not our customer", "no such local user", "email name is not found",
       "e-mail name is not found"),
     "Postfix smtpd(8) (smtpd.c) '554 5.5.1 Error: no valid recipients'; CiviCRM's bounce "
     "classification patterns (civicrm_data.tpl, AGPL-3.0), Invalid: 'unknown( or illegal)? "
     "user', 'user(...)? not found', 'address does not exist', 'addressee unknown', "
     "'recipient (does not exist|(is )?unknown)', 'unregistered address', 'unrecognized "
     "recipient', 'invalid (mailbox|recipient)', 'no such (mailbox|recipient|(local )?user)', "
     "'mailbox not found', 'user('s e-?mail name is)? not found', 'unknown local(-| )part', "
     "'user does not exist', 'not our customer'"},
    {"userunknown",
     P("recipient name is not recognized", "invalid final delivery userid", "user unknown",
       "unknown user", "no such user", "no such mailbox", "mailbox not found", "user doesn't exist",
       "user does not exist", "address does not exist", "recipient does not exist",
       "invalid recipient", "recipient unknown", "unknown recipient", "no mailbox",
       "no such recipient", "account does not exist", "not a valid mailbox", "unknown local part",
       "undeliverable address", "couldn't be found", "could not be found", "does not exist",
       "doesn't exist", "email account that you tried to reach does not exist",
       "is not a known user", "no such address", "bad recipient", "invalid mailbox",
       "user not found", "user invalid", "recipient not found",
       "destination addresses were unknown", "address was not found", "no valid recipients",
       "non-existent", "nonexistent", "not our customer", "mailbox does not exist",
       "invalid address", "no account by that name", "address unknown", "unknown mailbox",
       "no mailbox here by that name", "mailbox unavailable", "mailbox not available",
       "user not exist", "invalid recipient address", "is not a valid user", "no such person",
       "unknown or illegal", "account is not found", "mailbox is unavailable",
       "not a valid recipient", "recipient is not", "no such local user", "mailbox not present",
       "address is invalid", "account not found", "user reject",
       "requested action not taken: mailbox", "unknown account", "this account is not allowed",
       "delivery error: dd this user", "account that you tried to reach does not exist",
       "there is no one at", "recipient rejected", "user not known", "not listed in",
       "address not present", "user is unknown", "no such account", "bad destination mailbox",
       "mailbox name not allowed", "invalid user", "user missing home directory",
       "addressee unknown", "recipient not valid")},
    {"hasmoved", P("mailbox has moved", "has been replaced by", "no longer on server"),
     "RFC 3463 X.1.6 'Destination mailbox has moved'; Sisimai::Reason::HasMoved documentation"},
    {"hasmoved", P("has been moved", "has moved", "address has changed", "changed email address",
                   "no longer at this", "user not local", "moved to", "new address")},
    {"suspend",
     P("account that you tried to reach is disabled", "account that you tried to reach is inactive",
       "recipient suspend the service"),
     "Gmail 550 5.2.1 'The email account that you tried to reach is disabled'; "
     "Sisimai::Reason::Suspend documentation"},
    {"suspend",
     P("account inactive", "account expired", "account deactivated", "account is locked",
       "deactivated mailbox", "inactive user", "mail receiving disabled",
       "administratively disabled", "administrativly disabled", "mailbox temporarily disabled",
       "mailbox currently suspended", "user account suspended", "disabled or discontinued",
       "is inactive on this domain"),
     "CiviCRM's bounce classification patterns (civicrm_data.tpl, AGPL-3.0), Inactive: 'account "
     "(inactive|expired|deactivated)', 'account is locked', 'deactivated mailbox', 'inactive "
     "user', 'mail receiving disabled', 'mail( ?)address is administrative?ly disabled', "
     "'mailbox (temporarily disabled|currently suspended)', 'user account suspended', 'disabled "
     "or discontinued', 'is inactive on this domain'"},
    {"suspend",
     P("account is blocked", "compte du destinataire est bloque", "account disabled",
       "account has been disabled", "mailbox disabled", "is disabled", "account suspended",
       "has been suspended", "is inactive", "mailbox is inactive", "account is inactive",
       "not active", "recipient suspended", "temporarily disabled", "account has been terminated",
       "expired account", "is frozen", "account closed", "account is locked", "mailbox is frozen",
       "account has expired", "is suspended", "has been disabled", "mailbox has been blocked",
       "this account has been", "deactivated", "mailbox unavailable or access denied",
       "account inactive", "user suspended", "has been terminated", "is not active", "was disabled",
       "mailbox is disabled", "address is disabled", "account has been suspended")},
    {"exceedlimit", P("message length exceeds administrative limit"), "RFC 3463 X.2.3"},
    {"exceedlimit", P("message header size exceeds", "header size exceeds",
                      "exceeds the administrative", "exceeded the administrative limit",
                      "message exceeds the local", "message header too large")},
    /* Exim refuses to send a message with a line over its transport's
     * limit: the message, as written, is too big for the path. */
    {"mesgtoobig", P("lines too long for transport"),
     "Exim specification, smtp transport message_linelength_limit: 'message has lines too long for "
     "transport (received N, limit M)'"},
    /* Exim's default configuration refuses an overlong line at DATA, as its
     * transport does before sending (above). */
    {"mesgtoobig", P("maximum allowed line length is"),
     "Exim's default configuration (src/src/configure.default, acl_check_data): 'maximum allowed "
     "line length is 998 octets, got $max_received_linelength'"},
    {"mesgtoobig",
     P("message too big for system", "message size exceeds fixed limit", "message too big",
       "message is too large", "recipsizelimit", "message size limits",
       "exceeded maximum inbound message size", "message is too big"),
     "RFC 3463 X.3.4; Postfix 'Message size exceeds fixed limit'; Sendmail 'Message is too "
     "large'; Exchange RESOLVER.RST.RecipSizeLimit; Gmail 5.2.3 'message size limits'; "
     "Sisimai::Reason::MesgTooBig documentation; Exim transports 'message is too big "
     "(transport limit = %d)' (message_size_limit of a transport)"},
    {"mesgtoobig",
     P("line limit exceeded", "message too big", "message too large", "message size exceeds",
       "exceeds the maximum", "message is too large", "message size limit",
       "message length exceeds", "message size too large", "exceeded maximum message size",
       "message file too big", "email is too big", "size exceeds",
       "larger than the current system limit", "exceeds size limit", "message exceeds",
       "too big for", "exceeds the size limit", "size limit exceeded", "message size is too large",
       "mail size limit", "message is larger than")},
    {"blocked", P("denyip", "client host bypassing"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): antispam '554 Please visit "
     "http://antispam.../denyip.php?IP=... "
     "(#5.7.1)', '554 5.7.1 reject: Client host bypassing service provider's mail relay'"},
    {"blocked",
     P("blocked using", "client host rejected", "banned sending ip", "sending ip", "is listed on",
       "found on a block list", "unsolicited mail originating from your ip", "is in a black list",
       "but my name was rejected", "access from ip address"),
     "Postfix reject_rbl_client 'Client host [...] blocked using'; Exchange Online 5.7.606-649 "
     "'banned sending IP'; Gmail 4.7.0; Exim dnslists 'is in a black list at'"
     "; qmail-remote 'Connected to ... but my name was rejected', 'Access from ip address ... "
     "blocked' (Sisimai::Reason::Blocked documentation); KumoMTA community bounces.toml "
     "SpamBlock 'The sending IP ... is listed on', 'your IP has been found on a block list'"},
    /* Phrases naming the sending host or IP outrank the words around them
     * ("blocked for spamming" is about the client, not the content). */
    {"blocked", P("banned sending ip", "client host blocked", "ip address blacklisted",
                  "my name was rejected", "adresse ip source bloquee")},
    /* Spamhaus's IP zones list sending addresses only ("Spamhaus only lists IP
     * addresses"; ZEN is SBL, XBL and PBL): a refusal naming one is about the
     * sending host, however much it says spam (a "known spam source"). The
     * domain zone (dbl.spamhaus.org) lists content and is not here. */
    {"blocked",
     P("zen.spamhaus.org", "sbl.spamhaus.org", "xbl.spamhaus.org", "pbl.spamhaus.org",
       "sbl-xbl.spamhaus.org"),
     "Spamhaus, 'Listed by Spamhaus? Here's what to do' ('Spamhaus only lists IP addresses'; "
     "'550 5.7.1 Email rejected because 1.2.3.4 is listed by zen.spamhaus.org') and the ZEN "
     "page (SBL, XBL, PBL; sbl-xbl.spamhaus.org its predecessor)"},
    {"spamdetected", P("likely unsolicited mail", "identified as spam", "detected as spam"),
     "Gmail 550 5.7.1 'likely unsolicited mail'; SpamAssassin/Amavis rejections"},
    {"spamdetected", P("spam", "junk mail", "unsolicited", "bulk mail", "content filter rejection",
                       "message content rejected", "classified as bulk", "suspicious", "uce",
                       "content rejected", "detected as spam", "considered spam", "spamassassin",
                       "message looks like", "scored too high", "score too high", "high spam",
                       "rejected due to content", "listed on a blocklist for content")},
    {"securityerror", P("auth failed"),
     "PHPMailer-BMH rule samples (phpmailer-bmh_rules.php, GPL): command_reject '553 AUTH "
     "FAILED - a@b' (the SMTP AUTH of the sender failed)"},
    {"securityerror", P("access denied")},
    {"systemerror",
     P("loops back to myself", "mail forwarding loop", "message is looping",
       "mail loops back to me", "system config error"),
     "Postfix 'mail for ... loops back to myself', 'mail forwarding loop'; qmail 'This message is "
     "looping'; Sendmail 'mail loops back to me'; Sisimai::Reason::SystemError documentation"},
    /* A message that went through too many hops is reported as a network
     * (routing) failure: RFC 3463 files X.4.6 "Routing loop detected" under
     * network and routing status, and Sisimai documents "554 5.4.6 Too many
     * hops" as networkerror. */
    {"networkerror", P("too many hops", "routing loop detected", "hop count exceeded"),
     "RFC 3463 X.4.6; Sisimai::Reason::NetworkError documentation; Exchange Online 5.4.14"},
    /* Postfix's smtp(8) client when the server refused its greeting: the
     * client was turned away. */
    {"blocked", P("refused to talk to me"),
     "Postfix smtp(8) 'host %s refused to talk to me: %s' (smtp_proto.c, a refused greeting)"},
    /* A DNS block list named outranks the connection failure it causes. */
    {"blocked", P("spamhaus", "dnsbl", "blacklist", "blocklist", "black list", "block list", "rbl",
                  "sorbs", "refused to talk to me")},
    /* A TCP connection that failed (ECONNREFUSED, ETIMEDOUT, ENETUNREACH,
     * EHOSTUNREACH, ECONNRESET as Postfix, Exim, Sendmail and Exchange
     * Online (4.4.316 "Connection refused") word them) is the network, not a
     * policy: the generic "refused" below must not take it (issue 17). */
    {"networkerror",
     P("connection refused", "connection timed out", "no route to host", "network is unreachable",
       "host is unreachable", "connection reset", "could not connect", "unable to connect",
       "can't connect to", "cannot connect to", "couldn't connect", "connection dropped",
       "lost connection", "failed to connect", "no answer from host", "bad connection",
       "unable to route", "network congestion"),
     "Postfix, Exim, Sendmail connection errors (connect(2) errno texts); Exchange Online "
     "4.4.316; RFC 3463 X.4.1, X.4.2, X.4.4, X.4.5"},
    /* A client on dynamic (residential) address space told to relay
     * through its provider's server. */
    {"blocked", P("appears to be dynamically assigned", "smarthost your mail through your isp"),
     "Microsoft Hotmail / Windows Live '550 5.7.1 Your IP address x appears to be dynamically "
     "assigned. Please smarthost your mail through your ISP's mail server.' (quoted in "
     "eseutil.net, 2007-09-19, with Microsoft's announcement of the dynamic-IP block)"},
    {"blocked",
     P("refused to talk to me", "my name was rejected", "client host blocked",
       "ip address blacklisted", "blocked", "blacklist", "blocklist", "black list", "block list",
       "listed in", "rbl", "spamhaus", "dnsbl", "client host rejected", "banned", "your ip",
       "ip address", "please use the smtp server of your isp", "dynamic ip", "dial-up", "dialup",
       "refused by", "administratively denied", "not allowed to connect",
       "has been temporarily rate limited", "your server", "denied by policy", "ip-based",
       "your network", "sorbs", "barracuda", "rejected because", "connection not accepted",
       "no smtp service", "mail server at", "rejecting", "too many errors", "dynamic",
       "residential", "not accepting", "our system has detected", "ip reputation",
       "poor reputation", "host blocked", "rejected your connection", "refused")},
    {"filtered",
     P("filter", "recipient refuses", "refused by recipient", "does not accept mail from",
       "rejected by recipient", "blocked by recipient", "message filtered", "due to user rules",
       "not accepting mail from", "does not want", "hogehoge", "this message was rejected",
       "mail rejected by the recipient", "user refuses", "refused to receive", "receiving refused",
       "has been denied")},
    {"policyviolation", P("not accepted for policy reasons", "policy that prohibited"),
     "Yahoo 554 5.7.9; Gmail 550 5.7.1 'has a policy that prohibited the mail'"},
    {"policyviolation",
     P("content presents a potential", "policy", "violates", "violation", "prohibited",
       "administrative prohibition", "not allowed", "message not accepted for", "terms of service",
       "per your request", "acceptable use")},
    {"contenterror",
     P("media not supported", "conversion required and prohibited", "message is malformed",
       "bare line feed", "invalid characters", "improper use of 8-bit data"),
     "RFC 3463 X.6.1, X.6.3; Gmail 5.6.0 'Mail message is malformed'; Exchange 5.6.11; Sendmail "
     "'improper use of 8-bit data' (Sisimai::Reason::ContentError documentation)"},
    {"contenterror", P("headers too large"),
     "Sendmail '552 5.6.0 Headers too large (N max)' (the MaxHeadersLength option, Sendmail "
     "Installation and Operation Guide)"},
    {"contenterror",
     P("content error", "content type", "content-type", "mime", "header error", "invalid header",
       "malformed", "8-bit", "8bit", "encoding", "attachment", "line too long",
       "improperly formatted", "invalid character", "bare lf", "illegal character", "headers too")},
    {"securityerror", P("client was not authenticated"),
     "Exchange Online NDR table: 5.7.1 'Client was not authenticated', 5.7.57 'Client was not "
     "authenticated to send anonymous mail during MAIL FROM'"},
    {"securityerror",
     P("authentication required", "authentication credentials invalid",
       "encryption required for requested authentication mechanism", "authentication failure"),
     "RFC 4954 530/535/538 reply texts; Sisimai::Reason::SecurityError documentation"},
    {"securityerror",
     P("access denied", "authentication required", "smtp auth", "authentication failed",
       "certificate", "insecure", "user not authenticated", "authentication is required",
       "access denied", "not authorized", "unauthorized", "authorization", "password")},
    {"syntaxerror",
     P("syntax error", "command unrecognized", "command not implemented",
       "bad sequence of commands", "invalid command", "improper sequence of commands",
       "command parameter not implemented", "improper use of smtp command pipelining"),
     "RFC 5321 500-504 reply texts; RFC 3463 X.5.1, X.5.2; Sisimai::Reason::SyntaxError "
     "documentation ('503 Improper sequence of commands'); Postfix reject_unauth_pipelining "
     "'Improper use of SMTP command pipelining'"},
    {"syntaxerror", P("improper sequence of commands", "syntax error", "command unrecognized",
                      "unrecognized command", "bad sequence", "command not implemented",
                      "line too long", "unknown command", "syntax error in parameters")},
    {"mailererror",
     P("mailer", "procmail", "x-unix", "command died", "exit code", "pipe to", "program",
       "command failed", "exited with", "returned with", "local delivery failed",
       "delivery failed (exit", "child process", "dead.letter", "service unavailable: ")},
    {"systemfull", P("insufficient system storage", "mail system full", "insufficient disk space"),
     "RFC 5321 452 reply text; RFC 3463 X.3.1; Sendmail '452 Insufficient disk space; try again "
     "later'"},
    {"systemfull", P("system full", "insufficient system storage", "out of disk space", "disk full",
                     "mail system full", "no space left", "disk is full", "system storage")},
    /* Expiry notices that also quote the last attempt: the cause they
     * name (above) comes first. */
    {"expired",
     P("cannot send message for", "could not be delivered for", "in the queue too long",
       "did not accept our requests to connect"),
     "Sendmail 'Cannot send message for N days'; qmail 'in the queue too long'; Gmail 'did not "
     "accept our requests to connect'"},
    {"expired", P("could not be delivered for", "have been failing for a long time",
                  "did not accept our requests to connect", "message will be retried",
                  "retry timeout exceeded", "expired", "retry time", "retry timeout", "giving up",
                  "too long", "delivery time expired", "was not delivered within", "deferred for",
                  "could not be delivered for", "have not been able to deliver", "retry limit",
                  "unable to deliver for", "has been delayed", "delivery delayed", "delay",
                  "message timed out", "queue too long", "maximum time", "time limit",
                  "no delivery in", "not delivered within", "retry period", "message expired")},
    /* OpenSMTPD's temporary MX lookup failure, before the generic
     * "temporary failure" of a system error below. */
    {"networkerror", P("temporary failure in mx lookup"),
     "OpenSMTPD mta.c 'Temporary failure in MX lookup'"},
    {"networkerror",
     P("too many hops", "connection timed out", "timed out", "timeout", "connection refused",
       "network is unreachable", "could not connect", "no route to host", "lost connection",
       "host is unreachable", "unable to connect", "connection reset", "temporary lookup failure",
       "connection closed", "could not be reached", "dns",
       "malformed or unexpected name server reply", "network error", "connect to",
       "could not resolve", "unreachable", "broken pipe", "i/o error", "conversation with",
       "connection dropped")},
    {"systemerror",
     P("transaction failed", "service unavailable", "service not available",
       "service currently unavailable"),
     "RFC 5321 554 'Transaction failed', 421 'Service not available'"},
    {"systemerror",
     P("transaction failed", "mail loop", "loops back", "loop detected", "routing loop",
       "system error", "internal error", "local configuration error", "server configuration",
       "temporary failure", "temporary problem", "server error", "service unavailable",
       "unavailable", "try again later", "mail for", "misconfigured", "configuration error",
       "internal server error", "system is not available", "local error", "error in processing")},
};

/* Where a phrase is one a status code can also show, it is written in the
 * table above; the rest of the codes map here (RFC 3463 and the IANA
 * registry of enhanced status codes; class digit ignored). */
struct rp_status_rule {
    const char *sd; /* "S.D" */
    const char *reason;
};

static const struct rp_status_rule rp_status_rules[] = {
    {"1.0", "userunknown"},    {"1.1", "userunknown"},    {"1.2", "hostunknown"},
    {"1.3", "userunknown"},    {"1.4", "userunknown"},    {"1.5", "delivered"},
    {"1.6", "hasmoved"},       {"1.7", "rejected"},       {"1.8", "rejected"},
    {"1.9", "systemerror"},    {"1.10", "notaccept"},     {"2.0", "filtered"},
    {"2.1", "filtered"},       {"2.2", "mailboxfull"},    {"2.3", "exceedlimit"},
    {"2.4", "systemerror"},    {"3.0", "systemerror"},    {"3.1", "systemfull"},
    {"3.2", "notaccept"},      {"3.3", "systemerror"},    {"3.4", "mesgtoobig"},
    {"3.5", "systemerror"},    {"4.0", "networkerror"},   {"4.1", "networkerror"},
    {"4.2", "networkerror"},   {"4.3", "systemerror"},    {"4.4", "hostunknown"},
    {"4.5", "networkerror"},   {"4.6", "networkerror"},   {"4.7", "expired"},
    {"5.0", "systemerror"},    {"5.1", "syntaxerror"},    {"5.2", "syntaxerror"},
    {"5.3", "syntaxerror"},    {"5.4", "syntaxerror"},    {"5.5", "syntaxerror"},
    {"5.6", "syntaxerror"},    {"6.0", "contenterror"},   {"6.1", "contenterror"},
    {"6.2", "contenterror"},   {"6.3", "contenterror"},   {"6.4", "contenterror"},
    {"6.5", "contenterror"},   {"6.6", "contenterror"},   {"6.7", "contenterror"},
    {"6.8", "contenterror"},   {"6.9", "contenterror"},   {"6.10", "contenterror"},
    {"7.0", "securityerror"},  {"7.1", "securityerror"},  {"7.2", "securityerror"},
    {"7.3", "securityerror"},  {"7.4", "securityerror"},  {"7.5", "securityerror"},
    {"7.6", "securityerror"},  {"7.7", "securityerror"},  {"7.8", "securityerror"},
    {"7.9", "securityerror"},  {"7.10", "securityerror"}, {"7.11", "securityerror"},
    {"7.12", "securityerror"}, {"7.13", "suspend"},       {"7.14", "securityerror"},
    {"7.15", "securityerror"}, {"7.16", "mesgtoobig"},    {"7.17", "hasmoved"},
    {"7.18", "hasmoved"},      {"7.19", "securityerror"}, {"7.20", "authfailure"},
    {"7.21", "authfailure"},   {"7.22", "authfailure"},   {"7.23", "authfailure"},
    {"7.24", "authfailure"},   {"7.25", "requireptr"},    {"7.26", "authfailure"},
    {"7.27", "notaccept"},     {"7.28", "spamdetected"},  {"7.29", "authfailure"},
    {"7.30", "securityerror"},
};

/* Whole-word-ish match: phrases that are short abbreviations (uce, rbl, dns,
 * tls) must not match inside longer words ("reduce", "rblsmtpd" is fine). */
static bool rp_word_ok(const char *h, size_t hn, const char *at, size_t pl)
{
    if (pl > 4) return true;
    bool pre = at == h || !((at[-1] >= 'a' && at[-1] <= 'z'));
    size_t off = (size_t)(at - h) + pl;
    bool post = off >= hn || !((h[off] >= 'a' && h[off] <= 'z'));
    return pre && post;
}

/* Which byte pairs occur in a text: a phrase with a pair the text lacks
 * cannot match, which spares most of the table's memmem calls. */
struct rp_pairs {
    unsigned char bits[65536 / 8];
};

static void rp_pairs_fill(struct rp_pairs *pp, const char *t, size_t n)
{
    memset(pp->bits, 0, sizeof pp->bits);
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned v = (unsigned char)t[i] << 8 | (unsigned char)t[i + 1];
        pp->bits[v >> 3] |= (unsigned char)(1u << (v & 7));
    }
}

/* True when the match at `at` lies inside an e-mail address ("ultravirus@",
 * "no-spam@"): words of an address say nothing about the failure. */
static bool rp_in_address(const char *h, size_t hn, const char *at, size_t pl)
{
    static const char stop[] = " \t\n<>()[]\"',;:";
    const char *b = at, *e = at + pl, *end = h + hn;
    /* Two dots in a row end an address too (no address has them
     * unquoted): Sendmail-style "a@b...User unknown" without a space. */
    while (b > h && !strchr(stop, b[-1]) && !(b - h >= 2 && b[-1] == '.' && b[-2] == '.')) b--;
    while (e < end && !strchr(stop, *e) && !(end - e >= 2 && e[0] == '.' && e[1] == '.')) e++;
    return memchr(b, '@', (size_t)(e - b)) != NULL;
}

static bool rp_pairs_may(const struct rp_pairs *pp, const char *ph, size_t pl)
{
    for (size_t k = 0; k + 1 < pl; k++) {
        unsigned v = (unsigned char)ph[k] << 8 | (unsigned char)ph[k + 1];
        if (!(pp->bits[v >> 3] & (1u << (v & 7)))) return false;
    }
    return true;
}

struct rp_rule_trace *rp_rule_trace;

static bool rp_rule_off(const struct rp_rule_trace *tr, size_t rule, const char *ph)
{
    for (size_t k = 0; k < tr->n_off; k++)
        if (tr->off[k].rule == rule && strcmp(tr->off[k].phrase, ph) == 0) return true;
    return false;
}

/* Bounce texts wrap lines anywhere ("Mail quota\n    exceeded."): a phrase
 * is matched on the text with each run of white space made one space. */
static const char *rp_reason_text_flat(const char *lower, size_t n);

/* An MTA's own framing around the remote server's words names no cause:
 * Exim writes "SMTP error from remote mailer after RCPT TO:" (Exim 3) or
 * "... remote mail server after ..." (Exim 4) before every reply it quotes,
 * and the "mailer" in it is not a mailer failure. Blanked before matching
 * (the command after it is read separately, rp_at_rcpt). */
static const char *const rp_frames[] = {"smtp error from remote mailer after",
                                        "smtp error from remote mail server after", NULL};

/* qmail-remote ends each permanent failure with "Giving up on <host>."
 * after the server's "Remote host said: 5xx ...": the marker of a refusal
 * that will not be retried, not the expiry its words resemble. Blanked
 * where a permanent answer was quoted. */
static const char rp_qmail_perm[] = "remote host said: 5";
static const char rp_qmail_giveup[] = "giving up on ";

static bool rp_d3(const char *t)
{
    return t[0] >= '0' && t[0] <= '9' && t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9';
}

/* True when t[i] starts "DDD-", the first line of a multiline SMTP reply
 * (RFC 5321 4.2.1), at a word start. */
static bool rp_multiline_at(const char *t, size_t n, size_t i)
{
    return i + 4 <= n && (i == 0 || t[i - 1] == ' ') && rp_d3(t + i) && t[i + 3] == '-';
}

/* Length of an enhanced status code "C.S.D" at t (digits and two dots,
 * then a space or the end), else 0. */
static size_t rp_enh_len(const char *t, size_t n)
{
    size_t k = 0, dots = 0;
    while (k < n && ((t[k] >= '0' && t[k] <= '9') || t[k] == '.')) dots += t[k++] == '.';
    return dots == 2 && k >= 5 && k <= 11 && (k == n || t[k] == ' ') ? k : 0;
}

/* Removes the code prefixes of the continuation lines of multiline SMTP
 * replies from flattened text, so that a phrase broken across reply lines
 * reads whole: "550-5.1.1 ... does not 550-5.1.1 exist" (or, once the
 * parser has dropped the reply codes, "... does not 5.1.1 exist") reads
 * "... does not exist" (Gmail, Yahoo! and Exchange wrap their replies so).
 * The first line's prefix stays; a later "DDD-" or "DDD " with the same
 * digits, or the same enhanced code alone, goes. Returns the new length. */
static size_t rp_join_reply_lines(char *b, size_t m)
{
    size_t w = 0;
    char code[3] = {0, 0, 0};
    char enh[12] = "";
    size_t el = 0;
    for (size_t i = 0; i < m;) {
        if (code[0] && b[i] == ' ') {
            size_t j = i + 1;
            bool hit = false, last = false;
            /* Sendmail's transcript of session marks each line the server
             * sent with "<<< " (its DSN's "Transcript of session follows"). */
            if (j + 4 <= m && memcmp(b + j, "<<< ", 4) == 0) j += 4;
            if (j + 4 <= m && memcmp(b + j, code, 3) == 0 && (b[j + 3] == '-' || b[j + 3] == ' ')) {
                last = b[j + 3] == ' '; /* "DDD text": the reply's last line */
                j += 4;
                hit = true;
            }
            size_t k = j < m ? rp_enh_len(b + j, m - j) : 0;
            if (k && (hit || (k == el && memcmp(b + j, enh, el) == 0))) {
                j += k;
                hit = true;
            }
            if (hit) {
                i = j;
                if (i < m && b[i] == ' ') i++;
                if (w == 0 || b[w - 1] != ' ') b[w++] = ' ';
                if (last) code[0] = 0; /* a later reply starts afresh */
                continue;
            }
        }
        if (!code[0] && rp_multiline_at(b, m, i)) {
            memcpy(code, b + i, 3);
            el = i + 4 < m ? rp_enh_len(b + i + 4, m - i - 4) : 0;
            if (el) memcpy(enh, b + i + 4, el);
        }
        b[w++] = b[i++];
    }
    return w;
}

size_t rp_reply_flatten(const char *lower, size_t n, char *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char c = lower[i];
        if (c == '\n' || c == '\t' || c == '\r') c = ' ';
        if (c == ' ' && (m == 0 || out[m - 1] == ' ')) continue;
        out[m++] = c;
    }
    m = rp_join_reply_lines(out, m);
    out[m] = '\0';
    return m;
}

const char *rp_reason_text(const char *lower, size_t n)
{
    if (!lower || n == 0) return NULL;
    bool flat = true;
    for (size_t i = 0; i < n && flat; i++)
        if (rp_multiline_at(lower, n, i)) flat = false;
    for (size_t i = 0; i < n && flat; i++)
        if (lower[i] == '\n' || lower[i] == '\t' || lower[i] == '\r' ||
            (lower[i] == ' ' && i + 1 < n && lower[i + 1] == ' '))
            flat = false;
    for (const char *const *f = rp_frames; *f && flat; f++)
        if (memmem(lower, n, *f, strlen(*f))) flat = false;
    bool qmail_perm = memmem(lower, n, rp_qmail_perm, sizeof rp_qmail_perm - 1) != NULL &&
                      memmem(lower, n, rp_qmail_giveup, sizeof rp_qmail_giveup - 1) != NULL;
    if (qmail_perm) flat = false;
    if (flat) return rp_reason_text_flat(lower, n);
    char stackbuf[RP_REASON_FLAT_STACK];
    char *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (!buf) return rp_reason_text_flat(lower, n);
    size_t m = rp_reply_flatten(lower, n, buf);
    for (const char *const *f = rp_frames; *f; f++) {
        size_t fl = strlen(*f);
        for (char *q = buf; (q = memmem(q, m - (size_t)(q - buf), *f, fl)) != NULL; q += fl)
            memset(q, ' ', fl);
    }
    if (qmail_perm) {
        size_t gl = sizeof rp_qmail_giveup - 1;
        for (char *q = buf; (q = memmem(q, m - (size_t)(q - buf), rp_qmail_giveup, gl)) != NULL;
             q += gl)
            memset(q, ' ', gl);
    }
    const char *r = m ? rp_reason_text_flat(buf, m) : NULL;
    if (buf != stackbuf) free(buf);
    return r;
}

static const char *rp_reason_text_flat(const char *lower, size_t n)
{
    struct rp_rule_trace *tr = rp_rule_trace;
    struct rp_pairs pp;
    rp_pairs_fill(&pp, lower, n);
    for (size_t i = 0; i < sizeof rp_rules / sizeof rp_rules[0]; i++) {
        for (const char *const *p = rp_rules[i].phrases; *p; p++) {
            /* a leading '^' asks for a word start before the phrase */
            bool start = **p == '^';
            const char *ph = *p + start;
            size_t pl = strlen(ph);
            if (pl > n || !rp_pairs_may(&pp, ph, pl)) continue;
            if (tr && rp_rule_off(tr, i, *p)) continue;
            const char *h = lower;
            size_t hn = n;
            const char *at;
            while (hn >= pl && (at = memmem(h, hn, ph, pl)) != NULL) {
                if (rp_word_ok(lower, n, at, pl) &&
                    !(start && at > lower && at[-1] >= 'a' && at[-1] <= 'z') &&
                    !rp_in_address(lower, n, at, pl)) {
                    if (tr && tr->n_hit < RP_RULE_TRACE_MAX) {
                        tr->hit[tr->n_hit].rule = i;
                        tr->hit[tr->n_hit].phrase = *p;
                        tr->n_hit++;
                    }
                    return rp_rules[i].reason;
                }
                hn -= (size_t)(at - h) + 1;
                h = at + 1;
            }
        }
    }
    return NULL;
}

size_t rp_rule_count(void)
{
    return sizeof rp_rules / sizeof rp_rules[0];
}

const char *rp_rule_reason(size_t rule)
{
    return rule < rp_rule_count() ? rp_rules[rule].reason : NULL;
}

const char *rp_rule_source(size_t rule)
{
    return rule < rp_rule_count() ? rp_rules[rule].source : NULL;
}

const char *rp_reason_status(const char *status)
{
    if (!status || (status[0] != '2' && status[0] != '4' && status[0] != '5') || status[1] != '.')
        return NULL;
    const char *sd = status + 2;
    if (status[0] == '2') return "delivered";
    for (size_t i = 0; i < sizeof rp_status_rules / sizeof rp_status_rules[0]; i++)
        if (strcmp(rp_status_rules[i].sd, sd) == 0) return rp_status_rules[i].reason;
    return NULL;
}

/* A code whose detail the registry does not list (5.1.20, 4.4.9, 5.7.99):
 * RFC 3463 section 2 lets a client that does not know the detail read the
 * class and subject alone, i.e. as S.0 ("other or undefined" address,
 * mailbox, system, network, protocol, content or policy status). */
static const char *rp_reason_status_subject(const char *status)
{
    if (!status || (status[0] != '4' && status[0] != '5') || status[1] != '.') return NULL;
    const char *e = strchr(status + 2, '.');
    if (!e || e == status + 2 || (size_t)(e - status - 2) > 3) return NULL;
    char sd[8];
    size_t l = (size_t)(e - status - 2);
    memcpy(sd, status + 2, l);
    memcpy(sd + l, ".0", 3);
    for (size_t i = 0; i < sizeof rp_status_rules / sizeof rp_status_rules[0]; i++)
        if (strcmp(rp_status_rules[i].sd, sd) == 0) return rp_status_rules[i].reason;
    return NULL;
}

/* Orange and La Poste (France) end their replies with a code such as
 * "OFR_416" or "LPN007_416" whose last three digits name the cause. */
static const struct {
    const char *code;
    const char *reason;
} rp_franceptt[] = {
    {"102", "blocked"},     {"103", "blocked"},         {"104", "toomanyconn"},
    {"105", "blocked"},     {"106", "blocked"},         {"108", "blocked"},
    {"109", "blocked"},     {"416", "userunknown"},     {"417", "mailboxfull"},
    {"418", "userunknown"}, {"420", "suspend"},         {"421", "suspend"},
    {"423", "suspend"},     {"424", "suspend"},         {"425", "suspend"},
    {"426", "suspend"},     {"505", "systemerror"},     {"506", "spamdetected"},
    {"510", "blocked"},     {"513", "policyviolation"}, {"514", "mesgtoobig"},
    {"515", "mesgtoobig"},  {"630", "policyviolation"},
};

/* Acceptable-use codes "AUP#..." that Cox and Charter/Spectrum append to
 * their refusals, as their postmaster pages document them: Cox's CXBL and
 * CDRBL (the sending IP is blocked for spam-like behaviour), IPBLnnnn (the IP
 * is on a DNSBL), URLBL (a URL of the message is), CXCNCT (too many
 * concurrent connections), CXMXRT (too many messages); Spectrum's 1310 and
 * 1340 (concurrent connections) and 1380 (rate limit). */
static const struct {
    const char *code; /* lower-case, after "aup#" */
    bool prefix;      /* matches any code that starts so */
    const char *reason;
} rp_aup[] = {
    {"cxbl", false, "blocked"},       {"cdrbl", false, "blocked"},
    {"ipbl", true, "blocked"},        {"urlbl", false, "spamdetected"},
    {"cxcnct", false, "toomanyconn"}, {"cxmxrt", false, "speeding"},
    {"1310", false, "toomanyconn"},   {"1340", false, "toomanyconn"},
    {"1380", false, "speeding"},
};

static const char *rp_reason_aup(const char *t, size_t n)
{
    for (const char *q = t; q && (q = memmem(q, n - (size_t)(q - t), "aup#", 4)) != NULL; q++) {
        const char *u = q + 4, *end = t + n;
        /* Spectrum writes "AUP#In-1310" or "AUP#I-1310" as well as "AUP#1310" */
        if (u + 3 <= end && memcmp(u, "in-", 3) == 0)
            u += 3;
        else if (u + 2 <= end && memcmp(u, "i-", 2) == 0)
            u += 2;
        const char *w = u;
        while (w < end && ((*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9'))) w++;
        size_t wl = (size_t)(w - u);
        for (size_t i = 0; i < sizeof rp_aup / sizeof rp_aup[0]; i++) {
            size_t cl = strlen(rp_aup[i].code);
            if ((wl == cl || (rp_aup[i].prefix && wl > cl)) && memcmp(u, rp_aup[i].code, cl) == 0)
                return rp_aup[i].reason;
        }
    }
    return NULL;
}

/* A provider's code in a reply and the reason it names. */
struct rp_code {
    const char *code; /* lower-case, as written */
    const char *reason;
};

/* The reason of the first of codes[0..n) (in their order) standing in t as a
 * word: after the start or a byte of before, and before the end or a byte
 * that is neither a lower-case letter nor one of word. */
static const char *rp_code_word(const char *t, size_t n, const struct rp_code *codes, size_t ncodes,
                                const char *before, const char *word)
{
    for (size_t i = 0; i < ncodes; i++) {
        const char *c = codes[i].code;
        size_t cl = strlen(c);
        for (const char *q = t; q && (q = memmem(q, n - (size_t)(q - t), c, cl)) != NULL; q++) {
            bool pre = q == t || (q[-1] && strchr(before, q[-1]));
            bool post = q + cl == t + n ||
                        !((q[cl] >= 'a' && q[cl] <= 'z') || (q[cl] && strchr(word, q[cl])));
            if (pre && post) return codes[i].reason;
        }
    }
    return NULL;
}

/* Outlook.com (Hotmail) names the cause of a refusal with a code in the
 * reply, as its postmaster troubleshooting page documents them: SC-001 to
 * SC-004, DY-001, DY-002, OU-001, OU-002 refuse the sending IP (reputation,
 * namespace mining, open proxy, complaints, dynamic or compromised IP);
 * RP-001 and RP-002 its rate, RP-003 its connections. */
static const struct rp_code rp_outlook[] = {
    {"sc-001", "blocked"},  {"sc-002", "blocked"},     {"sc-003", "blocked"},
    {"sc-004", "blocked"},  {"dy-001", "blocked"},     {"dy-002", "blocked"},
    {"ou-001", "blocked"},  {"ou-002", "blocked"},     {"rp-001", "speeding"},
    {"rp-002", "speeding"}, {"rp-003", "toomanyconn"},
};

static const char *rp_reason_outlook(const char *t, size_t n)
{
    /* a word of its own: "550 SC-001 (BAY004-...)" */
    return rp_code_word(t, n, rp_outlook, sizeof rp_outlook / sizeof rp_outlook[0], " \n([",
                        "0123456789-");
}

/* NetEase (163.com, 126.com) names the cause with a code in the reply, as
 * its bounce code table documents them: HL:REP (many unknown recipients)
 * and HL:MEP (forged sender domains) suspend the IP, DT:RBL and WM:BLI
 * refuse it (a block list; not an allowed IP), HL:ICC too many concurrent
 * connections, HL:IFC and MI:DMC too many messages, DT:SPM spam content. */
static const struct rp_code rp_netease[] = {
    {"hl:rep", "blocked"},  {"hl:mep", "blocked"},      {"dt:rbl", "blocked"},
    {"wm:bli", "blocked"},  {"hl:icc", "toomanyconn"},  {"hl:ifc", "speeding"},
    {"mi:dmc", "speeding"}, {"dt:spm", "spamdetected"},
};

static const char *rp_reason_netease(const char *t, size_t n)
{
    return rp_code_word(t, n, rp_netease, sizeof rp_netease / sizeof rp_netease[0], " \n", ":");
}

/* Exchange 2000/2003 non-delivery reports name the X.400 diagnostic in
 * parentheses after the MSEXCH:IMS component: 000C05A6 is an unknown
 * recipient. */
static const char *rp_reason_exchange(const char *t, size_t n)
{
    return memmem(t, n, "msexch:", 7) && memmem(t, n, "(000c05a6)", 10) ? "userunknown" : NULL;
}

const char *rp_reason_provider_code(const char *t, size_t n)
{
    if (!t || n == 0) return NULL;
    const char *r = rp_reason_aup(t, n);
    if (!r) r = rp_reason_exchange(t, n);
    if (!r) r = rp_reason_outlook(t, n);
    if (!r) r = rp_reason_netease(t, n);
    if (r) return r;
    static const char *const pre[] = {"ofr", "lpn", NULL};
    for (const char *const *p = pre; *p; p++) {
        for (const char *q = t; q && (q = memmem(q, n - (size_t)(q - t), *p, 3)) != NULL; q++) {
            const char *u = q + 3;
            while (u < t + n && *u >= '0' && *u <= '9') u++;
            if (u + 4 > t + n || *u != '_') continue;
            for (size_t i = 0; i < sizeof rp_franceptt / sizeof rp_franceptt[0]; i++)
                if (memcmp(u + 1, rp_franceptt[i].code, 3) == 0) return rp_franceptt[i].reason;
        }
    }
    return NULL;
}

/* Status codes whose meaning is narrow enough to beat the words around them
 * (a "User unknown" text under 5.2.2 is a full mailbox wrongly worded). */
static const char *const rp_status_decisive[] = {"1.2",  "1.6",  "1.10", "2.2",  "2.3",
                                                 "3.4",  "7.13", "7.20", "7.21", "7.22",
                                                 "7.23", "7.24", "7.25", "7.26", NULL};

static bool rp_has(const char *t, size_t n, const char *w)
{
    return t && n && memmem(t, n, w, strlen(w)) != NULL;
}

/* Wordings that only an MTA's own recipient lookup writes (Exchange, IMail,
 * Lotus Notes, Verizon's MMS gateway, Yahoo!, Amazon SES's NoEmail subtype),
 * so they name an unknown user whatever the command was. */
static bool rp_uu_own_words(const char *t, size_t n)
{
    static const char *const w[] = {
        "recipient name is not recognized", "invalid final delivery userid",
        "unknown user: ", "not listed in public name", "no valid recipients for this",
        "delivery error: dd",
        /* Amazon SES's own verdict on the address */
        "noemail",
        /* qmail/vpopmail's and chkuser's RCPT answers,
         * Exim's router, and the other directory
         * lookups PHPMailer-BMH's rules quote */
        "no mailbox here by that name", "that recipient doesn't exist", "unknown local-part",
        "does not have an account here", "recipient cannot be verified",
        /* Exim's final local-user router (cannot_route_message, Exim
         * specification) */
        "unknown local user", NULL};
    for (const char *const *p = w; *p; p++)
        if (rp_has(t, n, *p)) return true;
    return false;
}

/* Receivers' documented statements that the account does not exist,
 * given after DATA: there the refusal is the directory's answer, not a
 * filter's. Yahoo! documents "554 delivery error: dd This user doesn't
 * have a yahoo.com account" as "the recipient's user ID doesn't exist.
 * You shouldn't retry the message" (Yahoo Help SLN3444, "Email sent to
 * Yahoo Mail addresses is rejected"; Yahoo! India Help abuse-57 (2008):
 * "The user does not exist"), and Yahoo!'s servers answer it at the end
 * of DATA. Its other "dd" replies (over quota, disabled) name other
 * causes, so only this sentence counts. */
static bool rp_uu_after_data(const char *t, size_t n)
{
    return rp_has(t, n, "delivery error: dd this user doesn't have a");
}

/* True when the word right before `what` is a host name: dotted, no '@',
 * not an address in brackets. */
static bool rp_names_host(const char *t, size_t n, const char *what)
{
    size_t wl = strlen(what);
    for (const char *q = t; q && (q = memmem(q, n - (size_t)(q - t), what, wl)) != NULL; q++) {
        const char *e = q;
        while (e > t && e[-1] == ' ') e--;
        const char *b = e;
        while (b > t && b[-1] != ' ' && b[-1] != '\n' && b[-1] != ':') b--;
        if (e - b < 3 || e[-1] == '.') continue;
        bool dot = false, bad = false;
        for (const char *c = b; c < e; c++) {
            if (*c == '.')
                dot = true;
            else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
                bad = true;
        }
        if (dot && !bad) return true;
    }
    return false;
}

/* NTT docomo answers "550 Unknown user" at the end of DATA when the
 * recipient's reception settings refuse the sender (its documented
 * designated-domain filter): the sender was refused, the address exists. */
static bool rp_rhost_docomo(const char *rhost, const char *t, size_t n)
{
    if (rhost) {
        size_t l = strlen(rhost);
        while (l && (rhost[l - 1] == '.' || rhost[l - 1] == ' ')) l--;
        if (l >= 12 && strncasecmp(rhost + l - 12, "docomo.ne.jp", 12) == 0) return true;
    }
    return rp_has(t, n, ".docomo.ne.jp[");
}

/* A Status field that says only X.0.0 ("other or undefined"), or none: the
 * first narrower enhanced code of the same class written in the reply text
 * (a relay's DSN often says 5.0.0 around the receiver's "550 5.2.2 ..."),
 * copied to buf; else the Status as it was. RFC 3463: the subject and
 * detail of the receiver's own code name the cause. */
static const char *rp_status_effective(const char *status, const char *t, size_t n, char *buf,
                                       size_t cap)
{
    if (status && !(status[1] == '.' && strcmp(status + 2, "0.0") == 0)) return status;
    size_t off = 0;
    for (int k = 0; t && k < RP_STATUS_SCAN_MAX && off < n; k++) {
        if (!rp_find_status(t + off, n - off, buf, cap)) break;
        if ((buf[0] == '4' || buf[0] == '5') && strcmp(buf + 1, ".0.0") != 0 &&
            (!status || buf[0] == status[0]))
            return buf;
        const char *at = memmem(t + off, n - off, buf, strlen(buf));
        if (!at) break;
        off = (size_t)(at - t) + strlen(buf);
    }
    return status;
}

const char *rp_reason_classify(const char *why, const char *diag_lower, size_t n,
                               const char *status, const char *reply_code, const char *action,
                               unsigned cmds, const char *rhost)
{
    /* The refused command (report_command.c), read by the caller from the
     * diagnostic and the recipient's paragraph of the text. */
    bool after_data = (cmds & RP_CMD_DATA) != 0, at_rcpt = (cmds & RP_CMD_RCPT) != 0;
    if (action && (strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0 ||
                   strcmp(action, "expanded") == 0))
        return "delivered";
    if (status && status[0] == '2') return "delivered";
    char cls = status ? status[0] : reply_code ? reply_code[0] : 0;
    /* First the codes whose meaning a provider documents (report_codes.c). */
    const char *pcode = rp_reason_code(status, diag_lower, n);
    if (pcode) return pcode;
    /* The decisive codes count in the reply text too where the Status
     * field says only X.0.0 (a relay's DSN around "552 5.2.2 ..."). */
    char dcode[16];
    const char *dstatus = rp_status_effective(status, diag_lower, n, dcode, sizeof dcode);
    if (dstatus && dstatus[1] == '.') {
        for (const char *const *d = rp_status_decisive; *d; d++)
            if (strcmp(dstatus + 2, *d) == 0) return rp_reason_status(dstatus);
    }
    if (action && strcmp(action, "expired") == 0) return "expired";
    /* X.7.9 is registered for a too weak SMTP AUTH mechanism, but outside
     * an AUTH exchange receivers (Yahoo!, AOL, Sendmail milters) answer it
     * after DATA to refuse a message on policy grounds. */
    if (status && status[1] == '.' && strcmp(status + 2, "7.9") == 0 &&
        !rp_has(diag_lower, n, "auth"))
        return "policyviolation";
    const char *pc = rp_reason_provider_code(diag_lower, n);
    if (pc) return pc;
    const char *t = why;
    bool at_mail_from = (cmds & RP_CMD_MAIL) != 0;
    /* "<name> does not exist" naming a host (a dotted name, no local part)
     * says the domain is missing, not a mailbox. */
    if (t && strcmp(t, "userunknown") == 0 && rp_names_host(diag_lower, n, "does not exist"))
        t = cls == '4' ? "networkerror" : "hostunknown";
    if (t) {
        /* Refused at MAIL FROM: about the sender, not the recipient. */
        if (at_mail_from && (strcmp(t, "userunknown") == 0 || strcmp(t, "hostunknown") == 0))
            return "rejected";
        if (strcmp(t, "userunknown") == 0) {
            if (after_data && rp_rhost_docomo(rhost, diag_lower, n)) return "rejected";
            /* Refused after DATA, the address was known: a filter said no. */
            if (after_data && !(status && strcmp(status + 1, ".1.1") == 0) &&
                !rp_uu_after_data(diag_lower, n))
                return "filtered";
            /* X.7.X is a policy code; worded as an unknown user after
             * anything but RCPT TO, a filter said no. */
            if (status && status[1] == '.' && status[2] == '7' && status[3] == '.' && !at_rcpt &&
                !rp_uu_own_words(diag_lower, n))
                return "filtered";
            /* X.2.1 "mailbox disabled" worded as unknown: a filter, unless
             * the refusal came at RCPT where the address itself is judged. */
            if (status && strcmp(status + 1, ".2.1") == 0 && !at_rcpt) return "filtered";
            /* Only an answer to RCPT TO judges the address itself. A
             * generic "User unknown" with no sign of the command, no
             * address status (X.1.X) and not both a status and a reply
             * code came from a filter or a relay that hides the cause
             * (Sisimai's reading). An MTA's own wording for its own
             * directory lookup stays an unknown user. */
            if (!at_rcpt && !(status && status[1] == '.' && status[2] == '1' && status[3] == '.') &&
                !(status && reply_code) && !rp_uu_own_words(diag_lower, n))
                return "filtered";
        }
        if (strcmp(t, "hostunknown") == 0 && cls == '4') return "networkerror";
        if (strcmp(t, "networkerror") == 0 && cls != '5' && action &&
            strcmp(action, "failed") == 0 &&
            (rp_has(diag_lower, n, "timed out") || rp_has(diag_lower, n, "connect to") ||
             rp_has(diag_lower, n, "timeout") || rp_has(diag_lower, n, "connection refused")))
            return "expired"; /* given up after retrying a dead host */
        return t;
    }
    /* Refused at MAIL FROM: the sender was refused, whatever the code. */
    if (at_mail_from) return "rejected";
    /* No words named a cause: the receiver's own enhanced code does, where
     * the Status field is only X.0.0. */
    char tcode[16];
    status = rp_status_effective(status, diag_lower, n, tcode, sizeof tcode);
    const char *s = rp_reason_status(status);
    /* A temporary code in a final failure or a delay warning without a
     * narrower meaning: the retries ran (or are running) out. X.3.0, X.4.0
     * and X.5.0 are RFC 3463's "other or undefined" system, network and
     * protocol status: no cause named either. */
    bool undef_detail = status && status[1] == '.' && status[3] == '.' &&
                        (status[2] == '3' || status[2] == '4' || status[2] == '5') &&
                        strcmp(status + 4, "0") == 0;
    if (cls == '4' && action && (strcmp(action, "failed") == 0 || strcmp(action, "delayed") == 0) &&
        (!s || strcmp(s, "systemerror") == 0 || (status[2] == '0' && status[4] == '0') ||
         undef_detail))
        return "expired";
    if (s && !(status[2] == '0' && status[3] == '.' && status[4] == '0')) return s;
    /* An unlisted detail: its subject's "other or undefined" reason. */
    const char *subj = s ? NULL : rp_reason_status_subject(status);
    if (subj) return subj;
    if (action && strcmp(action, "delayed") == 0) return "expired";
    if (reply_code && reply_code[0] == '2') return "delivered";
    /* RFC 7504: 556 "Domain does not accept mail"; Sisimai's documented
     * notaccept. */
    if (reply_code && strcmp(reply_code, "556") == 0) return "notaccept";
    /* RFC 5321 500-504 answer a command the server could not take (syntax,
     * unknown command, bad sequence): Sisimai documents them as
     * syntaxerror. */
    if (reply_code && reply_code[0] == '5' && reply_code[1] == '0' && reply_code[2] >= '0' &&
        reply_code[2] <= '4')
        return "syntaxerror";
    /* A permanent refusal of RCPT TO that names no other cause refused the
     * address (Sisimai's documented userunknown: "connection was refused at
     * SMTP RCPT command"). */
    /* RFC 5321 552 "Requested mail action aborted: exceeded storage
     * allocation", at RCPT or after DATA, when no words name another
     * cause. */
    if (reply_code && strcmp(reply_code, "552") == 0) return "mailboxfull";
    if (at_rcpt && cls == '5') return "userunknown";
    /* Refused at the greeting or HELO/EHLO with no words naming a cause:
     * the sending host was refused (Sisimai's documented `blocked`: "SMTP
     * connection was rejected due to a client IP address or a hostname, or
     * the parameter of HELO/EHLO"). */
    if ((cmds & (RP_CMD_CONNECT | RP_CMD_HELO)) && !(cmds & (RP_CMD_MAIL | RP_CMD_DATA)) &&
        cls == '5')
        return "blocked";
    return status || reply_code ? "onhold" : "undefined";
}

bool homing_report_reason_hard(const char *reason, const char *code)
{
    if (!reason) return false;
    if (strcmp(reason, "userunknown") == 0 || strcmp(reason, "hostunknown") == 0 ||
        strcmp(reason, "hasmoved") == 0)
        return true;
    if (strcmp(reason, "notaccept") == 0) return !(code && code[0] == '4');
    return false;
}
