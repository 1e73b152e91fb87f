import { useEffect, useRef, type ReactNode } from 'react';
import type { DatasetInfo, ImageHit, Thumb as ThumbPixels } from '../worker/protocol';
import { pageBaseUrl } from './client';

/** URL of image i's thumbnail in a 'url' dataset: `${thumbBase}/thumbs/<i>.jpg`, relative to the page. */
export function thumbUrl(thumbBase: string | undefined, image: number, base: string = pageBaseUrl()): string {
  const dir = (thumbBase ?? '').replace(/\/+$/, '');
  return new URL(`${dir ? `${dir}/` : ''}thumbs/${image}.jpg`, base).href;
}

/** An image element showing a Blob through an object URL that lives as long as the element. */
export function BlobImage(props: { blob: Blob; alt: string; className?: string }): ReactNode {
  const ref = useRef<HTMLImageElement>(null);
  useEffect(() => {
    const img = ref.current;
    if (!img || typeof URL.createObjectURL !== 'function') return;
    const url = URL.createObjectURL(props.blob);
    img.src = url;
    return () => URL.revokeObjectURL(url);
  }, [props.blob]);
  return <img ref={ref} alt={props.alt} className={props.className} />;
}

/** RGBA pixels drawn to a canvas. */
export function PixelImage(props: { thumb: ThumbPixels; alt: string }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const { thumb } = props;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(thumb.width, thumb.height);
    img.data.set(thumb.data.subarray(0, img.data.length));
    ctx.putImageData(img, 0, 0);
  }, [thumb]);
  return <canvas ref={ref} width={thumb.width} height={thumb.height} role="img" aria-label={props.alt} />;
}

const NameOnly = ({ name }: { name: string }): ReactNode => (
  <span className="thumb-name" data-thumb="none">
    {name}
  </span>
);

/** The thumbnail of a search hit, the way the dataset provides it (DatasetInfo.thumbs). */
export function HitThumb(props: {
  hit: ImageHit;
  dataset: DatasetInfo | null;
  pickedFiles: ReadonlyMap<string, Blob> | null;
}): ReactNode {
  const { hit, dataset, pickedFiles } = props;
  switch (dataset?.thumbs) {
    case 'url':
      return (
        <img src={thumbUrl(dataset.thumbBase, hit.image)} alt={hit.name} loading="lazy" data-thumb="url" />
      );
    case 'inline':
      return hit.thumb ? (
        <span data-thumb="inline">
          <PixelImage thumb={hit.thumb} alt={hit.name} />
        </span>
      ) : (
        <NameOnly name={hit.name} />
      );
    case 'file': {
      const path = dataset.imagePaths?.[hit.image];
      const blob = path !== undefined ? pickedFiles?.get(path) : undefined;
      return blob ? (
        <span data-thumb="file">
          <BlobImage blob={blob} alt={hit.name} />
        </span>
      ) : (
        <NameOnly name={hit.name} />
      );
    }
    default:
      return <NameOnly name={hit.name} />;
  }
}
