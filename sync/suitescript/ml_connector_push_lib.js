/**
 * ML connector push: builds, signs and posts one record-change event to the connector's webhook
 * (NetSuite contract, section 7). Shared by the User Event and the Event Subscriber entry scripts.
 *
 * Body: {"eventId","recordType","recordId","eventType","occurredAt"}
 * Header: X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The secret never leaves NetSuite's API Secrets: N/crypto signs with it by its script id, and nothing here
 * logs it. The push is only a hint (the connector re-reads the record and also polls), so a failure is logged
 * and never stops the user's save.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/https', 'N/crypto', 'N/encode', 'N/log', 'N/runtime'], (https, crypto, encode, log, runtime) => {
    // Answers that mean "briefly unavailable" get one immediate second try (SuiteScript cannot sleep). A thrown
    // error (timeout, refused connection) gets none: it may already have held the save for NetSuite's 45 s.
    const RETRY_ONCE_ON = [429, 502, 503, 504];

    // context.type of afterSubmit -> the connector's eventType. Anything else that saves a record (xedit,
    // reject, markcomplete, pack, ship...) is an edit: the connector re-reads the record whatever we say.
    const EVENT_TYPE_OF_USER_EVENT = {
        create: 'create', dropship: 'create', specialorder: 'create', orderitems: 'create',
        edit: 'edit', delete: 'delete', approve: 'approve', cancel: 'cancel',
    };

    const eventTypeOfUserEvent = (userEventType) =>
        EVENT_TYPE_OF_USER_EVENT[String(userEventType || '').toLowerCase()] || 'edit';

    /** Script parameters <prefix>connector_url, <prefix>connection_slug and <prefix>secret_id. */
    function settingsFromParameters(prefix) {
        const script = runtime.getCurrentScript();
        const read = (name) => String(script.getParameter({ name: prefix + name }) || '').trim();
        return {
            connectorUrl: read('connector_url'), connectionSlug: read('connection_slug'), secretId: read('secret_id'),
        };
    }

    const webhookUrl = (settings) => {
        const base = settings.connectorUrl.replace(/\/+$/, '');
        return `${base}/webhooks/netsuite/${encodeURIComponent(settings.connectionSlug)}/`;
    };

    // N/crypto has no UUID generator. The eventId only has to be unique for the connector to recognise a
    // repeated delivery; the HMAC, not the id, protects the event, so Math.random's 122 random bits (a UUID v4)
    // are enough.
    const newEventId = () => 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (slot) => {
        const nibble = Math.floor(Math.random() * 16);
        return (slot === 'x' ? nibble : (nibble % 4) + 8).toString(16);
    });

    function buildBody({ eventId, recordType, recordId, eventType, occurredAt }) {
        // record.type is the lower-case record type id ("purchaseorder"); Event Subscribers say "PURCHASEORDER".
        return JSON.stringify({
            eventId, recordType: String(recordType).toLowerCase(), recordId: String(recordId), eventType, occurredAt,
        });
    }

    function signatureHeader({ secretId, timestamp, body }) {
        const key = crypto.createSecretKey({ secret: secretId, encoding: encode.Encoding.UTF_8 });
        const hmac = crypto.createHmac({ algorithm: crypto.HashAlg.SHA256, key });
        hmac.update({ input: `${timestamp}.${body}`, inputEncoding: encode.Encoding.UTF_8 });
        return `t=${timestamp},v1=${hmac.digest({ outputEncoding: encode.Encoding.HEX }).toLowerCase()}`;
    }

    /**
     * Posts one event. Returns the connector's HTTP status, or 0 when nothing was delivered (not configured,
     * signing impossible, network error). Never throws.
     */
    function pushRecordChange({ settings, recordType, recordId, eventType }) {
        const what = `${recordType} ${recordId} (${eventType})`;
        const missing = ['connectorUrl', 'connectionSlug', 'secretId'].filter((name) => !settings[name]);
        if (missing.length) {
            log.error({
                title: 'ML connector push not configured',
                details: `${what} not pushed; missing: ${missing.join(', ')}`,
            });
            return 0;
        }
        const body = buildBody({
            eventId: newEventId(), recordType, recordId, eventType, occurredAt: new Date().toISOString(),
        });
        let headers;
        try {
            headers = {
                'Content-Type': 'application/json',
                'X-Signature': signatureHeader({
                    secretId: settings.secretId, timestamp: Math.floor(Date.now() / 1000), body,
                }),
            };
        } catch (error) {
            log.error({
                title: 'ML connector push cannot sign',
                details: `${what}: ${error.name}: ${error.message}. `
                    + `Check that API secret ${settings.secretId} exists and allows this script.`,
            });
            return 0;
        }
        const url = webhookUrl(settings);
        for (let attempt = 1; ; attempt += 1) {
            let response;
            try {
                response = https.post({ url, body, headers });
            } catch (error) {
                log.error({
                    title: 'ML connector push failed', details: `${what} to ${url}: ${error.name}: ${error.message}`,
                });
                return 0;
            }
            if (response.code >= 200 && response.code < 300) {
                log.debug({ title: 'ML connector push delivered', details: `${what}: HTTP ${response.code}` });
                return response.code;
            }
            if (attempt === 1 && RETRY_ONCE_ON.includes(response.code)) {
                continue;
            }
            log.error({
                title: 'ML connector refused the push',
                details: `${what}: HTTP ${response.code} ${String(response.body || '').slice(0, 500)}`,
            });
            return response.code;
        }
    }

    return { eventTypeOfUserEvent, settingsFromParameters, pushRecordChange };
});
