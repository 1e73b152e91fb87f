import { useState, type ReactNode } from 'react';

/** A drop target around a file picker; highlighted while something is dragged over it. */
export function DropZone(props: {
  testId: string;
  onDrop: (data: DataTransfer) => void;
  children: ReactNode;
}): ReactNode {
  const [dragging, setDragging] = useState(false);
  return (
    <div
      className={`dropzone${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        props.onDrop(e.dataTransfer);
      }}
      data-testid={props.testId}
    >
      {props.children}
    </div>
  );
}
