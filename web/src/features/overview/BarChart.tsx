interface Props {
  counts: number[];
  labels: string[];
  max: number;
  /** Read instead of the bars (the bars themselves are hidden from screen readers). */
  description: string;
  alarm?: boolean;
}

const W = 300;
const H = 80;

/** Bars, one per bucket, scaled to the series' own maximum; each bar names its bucket on hover. */
export function BarChart({ counts, labels, max, description, alarm = false }: Props) {
  const slot = W / Math.max(1, counts.length);
  const gap = Math.min(2, slot * 0.2);
  return (
    <figure className="chart">
      {max === 0 && <p className="chart-none" aria-hidden="true">None</p>}
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={description} width="100%" height={H}>
        <line x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} className="chart-axis" />
        {counts.map((c, i) => {
          const h = max > 0 ? Math.max(c > 0 ? 2 : 0, (c / max) * (H - 4)) : 0;
          return (
            <rect key={i} x={i * slot + gap / 2} y={H - h} width={slot - gap} height={h}
              className={alarm && c > 0 ? 'chart-bar alarm' : 'chart-bar'}>
              <title>{`${labels[i] ?? ''}: ${c}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="chart-scale" aria-hidden="true">
        <span>{labels[0]}</span>
        <span>max {max}</span>
        <span>{labels[labels.length - 1]}</span>
      </figcaption>
    </figure>
  );
}
