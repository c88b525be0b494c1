/**
 * ML connector push, User Event variant: after a record is saved, tells the connector which record changed.
 * Deploy it on each synced record type (docs/netsuite-push.md). Script parameters:
 *   custscript_mlc_ue_connector_url    e.g. https://connector.example.com
 *   custscript_mlc_ue_connection_slug  the NetSuite connection's name in the connector
 *   custscript_mlc_ue_secret_id        script id of the API secret holding the webhook secret
 *
 * @NApiVersion 2.1
 * @NScriptType UserEventScript
 * @NModuleScope SameAccount
 */
define(['./ml_connector_push_lib'], (push) => {
    function afterSubmit(context) {
        const eventType = push.eventTypeOfUserEvent(context.type);
        // On delete only oldRecord still describes the record.
        const record = (eventType === 'delete' && context.oldRecord) || context.newRecord;
        push.pushRecordChange({
            settings: push.settingsFromParameters('custscript_mlc_ue_'),
            recordType: record.type,
            recordId: record.id,
            eventType,
        });
    }

    return { afterSubmit };
});
