/**
 * The large-messages example: the primary sends documents of about 100 KB (text with accents
 * and emoji) to workers, which send each back rendered, with a word count. With the default
 * `json` serialization their long strings skip JSON.stringify on the bulk pipe
 * (docs/messaging.md, "Long strings: the bulk pipe"); what arrives is exactly what JSON would
 * deliver. Set CLUSTERKIT_BULK=0 to compare with plain JSON.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   node --import tsx node_modules/clusterkit/examples/large-messages/main.ts
 * In the clusterkit repository, after npm run build: node --import tsx examples/large-messages/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import { ClusterPrimary, ClusterWorker, type WorkerHandlers } from 'clusterkit';

interface Document {
  title: string;
  body: string;
}

interface ToWorker {
  /** Renders a document as HTML; replies with the HTML and its word count. */
  render: { payload: Document; reply: { html: string; words: number } };
}

class RenderWorker extends ClusterWorker<ToWorker> implements WorkerHandlers<ToWorker> {
  _onMessage_render({ title, body }: Document) {
    const paragraphs = body.split('\n\n').map((text) => `<p>${text.replaceAll('&', '&amp;').replaceAll('<', '&lt;')}</p>`);
    return { html: `<h1>${title}</h1>\n${paragraphs.join('\n')}`, words: body.split(/\s+/).filter(Boolean).length };
  }
}

if (cluster.isPrimary) {
  const primary = new ClusterPrimary<ToWorker>({ workerCount: Number(process.env.WORKERS ?? 2), logger: false });
  await primary.start();
  const paragraph = 'Déjà vu: naïve café owners serve crème brûlée to 1 000 guests 🎉 & <friends>. ';
  const documents = Array.from({ length: 200 }, (_, index) => ({ title: `Report ${index}`, body: `${paragraph.repeat(60)}\n\n`.repeat(20) }));
  const startedAt = performance.now();
  const pages = await Promise.all(documents.map((document) => primary.send(primary.roundRobin(), 'render', document)));
  const seconds = (performance.now() - startedAt) / 1000;
  const megabytes = documents.reduce((sum, document) => sum + Buffer.byteLength(document.body), 0) / 1024 / 1024;
  const intact = pages.every((page, index) => page.html.startsWith(`<h1>Report ${index}</h1>`) && page.html.includes('🎉 &amp; &lt;friends>'));
  console.log(`${pages.length} documents (${megabytes.toFixed(1)} MiB) rendered in ${seconds.toFixed(2)} s; ${pages[0]!.words} words each; intact: ${intact}`);
  await primary.shutdown();
} else {
  await new RenderWorker().start();
}
