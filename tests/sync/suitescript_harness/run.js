// Runs one entry point of the ML connector push script under node, with the SuiteScript modules it uses
// replaced by stand-ins: N/https posts for real (synchronously, as in NetSuite), N/crypto signs with node's
// crypto and a table of API secrets, N/log and N/runtime record and answer from the scenario.
//
// Scenario (JSON on stdin): {scriptDir, entry, entryPoint, context, parameters, apiSecrets, settings?,
// tamperBody?}. `settings` fills in the constants of the Event Subscriber file as the customer would;
// `tamperBody` changes the body after it was signed, as a man in the middle would.
// Prints {"requests": [{url, headers, body, code, responseBody}], "logs": [{level, title, details}]}.
'use strict';

const childProcess = require('child_process');
const nodeCrypto = require('crypto');
const fs = require('fs');
const path = require('path');

if (process.argv[2] === '--post') {
    postOnce();
} else {
    runScenario(JSON.parse(fs.readFileSync(0, 'utf8'))).then(
        (outcome) => process.stdout.write(JSON.stringify(outcome)),
        (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
    );
}

// The child half of the synchronous N/https stand-in: one POST, the answer as JSON on stdout.
function postOnce() {
    const request = JSON.parse(fs.readFileSync(0, 'utf8'));
    const url = new URL(request.url);
    const client = require(url.protocol === 'https:' ? 'https' : 'http');
    const outgoing = client.request(url, { method: 'POST', headers: request.headers, timeout: 45000 }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => process.stdout.write(JSON.stringify({
            code: response.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers,
        })));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
    outgoing.on('error', (error) => { process.stderr.write(error.message); process.exit(2); });
    outgoing.end(request.body);
}

async function runScenario(scenario) {
    const requests = [];
    const logs = [];
    const modules = {
        'N/https': httpsStub(scenario, requests),
        'N/crypto': cryptoStub(scenario.apiSecrets || {}),
        'N/encode': { Encoding: { UTF_8: 'UTF_8', HEX: 'HEX', BASE_64: 'BASE_64' } },
        'N/log': logStub(logs),
        'N/runtime': {
            getCurrentScript: () => ({ getParameter: ({ name }) => (scenario.parameters || {})[name] ?? null }),
        },
    };
    const entry = loadModule(path.join(scenario.scriptDir, scenario.entry), modules, scenario.settings);
    await entry[scenario.entryPoint](scenario.context);
    return { requests, logs };
}

// A minimal AMD loader: `define(deps, factory)` with N/ modules from the stand-ins and ./relative files.
function loadModule(file, modules, settings) {
    let source = fs.readFileSync(file, 'utf8');
    if (settings) {
        source = source.replace(/const SETTINGS = \{[^}]*\};/, `const SETTINGS = ${JSON.stringify(settings)};`);
    }
    let exported;
    const define = (dependencies, factory) => {
        const resolved = dependencies.map((name) => (name.startsWith('N/')
            ? modules[name]
            : loadModule(path.resolve(path.dirname(file), `${name}.js`), modules)));
        exported = factory(...resolved);
    };
    new Function('define', source)(define);
    return exported;
}

function httpsStub(scenario, requests) {
    return {
        post({ url, body, headers }) {
            const sent = scenario.tamperBody ? body.replace(/"recordId":"(\d+)"/, '"recordId":"$19"') : body;
            const child = childProcess.spawnSync(process.execPath, [__filename, '--post'], {
                input: JSON.stringify({ url, body: sent, headers }), encoding: 'utf8', timeout: 50000,
            });
            if (child.status !== 0) {
                const error = new Error(child.stderr || 'no answer');
                error.name = 'SSS_REQUEST_TIME_EXCEEDED';
                throw error;
            }
            const answer = JSON.parse(child.stdout);
            requests.push({ url, headers, body: sent, code: answer.code, responseBody: answer.body });
            return answer;
        },
    };
}

function cryptoStub(apiSecrets) {
    return {
        HashAlg: { SHA1: 'SHA1', SHA256: 'SHA256', SHA512: 'SHA512' },
        createSecretKey({ secret, encoding }) {
            if (!(secret in apiSecrets)) {
                const error = new Error(`No API secret with id ${secret} is available to this script.`);
                error.name = 'INVALID_SECRET_KEY';
                throw error;
            }
            if (encoding !== 'UTF_8') throw new Error('stand-in only supports UTF_8 secrets');
            return { secret, value: apiSecrets[secret] };
        },
        createHmac({ algorithm, key }) {
            if (algorithm !== 'SHA256') throw new Error('stand-in only supports SHA256');
            const hmac = nodeCrypto.createHmac('sha256', Buffer.from(key.value, 'utf8'));
            return {
                update({ input, inputEncoding }) {
                    if (inputEncoding !== 'UTF_8') throw new Error('stand-in only supports UTF_8 input');
                    hmac.update(Buffer.from(input, 'utf8'));
                },
                digest({ outputEncoding }) {
                    if (outputEncoding !== 'HEX') throw new Error('stand-in only supports HEX output');
                    return hmac.digest('hex');
                },
            };
        },
    };
}

function logStub(logs) {
    const at = (level) => (options) => logs.push({ level, title: options.title, details: String(options.details) });
    return { debug: at('debug'), audit: at('audit'), error: at('error'), emergency: at('emergency') };
}
