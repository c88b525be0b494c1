/**
 * ML connector push, Event Subscriber variant (NetSuite 2026.2+): runs after the save has completed, so the
 * user never waits for the connector. Subscribed by Objects/custevsub_mlc_push.xml (docs/netsuite-push.md).
 *
 * @NApiVersion 2.1
 * @NScriptType EventSubscriber
 * @NModuleScope SameAccount
 */
define(['./ml_connector_push_lib'], (push) => {
    // An Event Subscriber has no deployment record to carry script parameters: fill these in before deploying.
    const SETTINGS = {
        connectorUrl: 'https://connector.example.com',
        connectionSlug: 'acme-netsuite',
        secretId: 'custsecret_mlc_webhook',
    };

    async function handle(options) {
        push.pushRecordChange({
            settings: SETTINGS,
            recordType: options.context.recordType,
            recordId: options.payload.recordId,
            // handle(options) names the record, not what happened to it. "edit" makes the connector re-read the
            // record, which also tells it about a creation or a deletion.
            eventType: 'edit',
        });
    }

    return { handle };
});
