// Lifecycle events drawn on a chart's time axis (a uPlot plugin), in the colours of the timeline.
import { eventKind } from './timeline.js';

/**
 * Events on the time axis: a small triangle for each, and a dashed line across the plot for
 * the ones that change a worker's story (exits, restarts, reloads, scaling...).
 */
export function markers(events) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx, bbox } = u;
          const min = u.scales.x.min;
          const max = u.scales.x.max;
          const ratio = devicePixelRatio || 1;
          const bottom = bbox.top + bbox.height;
          ctx.save();
          for (const event of events()) {
            const t = event.at / 1000;
            if (t < min || t > max) continue;
            const kind = eventKind(event);
            const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
            if (kind.line) {
              ctx.globalAlpha = 0.55;
              ctx.strokeStyle = kind.color;
              ctx.lineWidth = ratio;
              ctx.setLineDash([4 * ratio, 3 * ratio]);
              ctx.beginPath();
              ctx.moveTo(x, bbox.top);
              ctx.lineTo(x, bottom);
              ctx.stroke();
            }
            ctx.globalAlpha = 1;
            ctx.setLineDash([]);
            ctx.fillStyle = kind.color;
            const size = (kind.line ? 5 : 3.5) * ratio;
            ctx.beginPath();
            ctx.moveTo(x, bottom - size * 1.6);
            ctx.lineTo(x - size, bottom);
            ctx.lineTo(x + size, bottom);
            ctx.closePath();
            ctx.fill();
          }
          ctx.restore();
        },
      ],
    },
  };
}
