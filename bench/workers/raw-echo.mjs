// Raw node:cluster worker: hand-written id-matching acks, the baseline clusterkit is measured against.
let notified = 0;
process.on('message', (message) => {
  switch (message?.t) {
    case 'req':
      process.send({ t: 'res', id: message.id, p: message.p });
      break;
    case 'ntf':
      notified++;
      break;
    case 'count':
      process.send({ t: 'res', id: message.id, p: notified });
      break;
  }
});
process.send({ t: 'ready' });
