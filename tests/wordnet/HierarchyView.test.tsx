// @vitest-environment jsdom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { HierarchyView, type HierarchyPoint } from '../../src/ui/hierarchy/HierarchyView';

// entity <- animal <- dog, cat ; entity <- city
const points: HierarchyPoint[] = [
  { id: 0, name: 'entity.n.01', x: 0.1, y: 0.1 },
  { id: 1, name: 'animal.n.01', x: 1, y: 1 },
  { id: 2, name: 'dog.n.01', x: 2, y: 1.5 },
  { id: 3, name: 'cat.n.01', x: 1.5, y: 2 },
  { id: 4, name: 'city.n.01', x: 0.2, y: 3 },
];
const up: Record<number, number[]> = { 0: [], 1: [0], 2: [1, 0], 3: [1, 0], 4: [0] };
const down: Record<number, number[]> = { 0: [1, 2, 3, 4], 1: [2, 3], 2: [], 3: [], 4: [] };
const edges: [number, number][] = [
  [1, 0],
  [2, 1],
  [3, 1],
  [4, 0],
];

function setup() {
  render(
    <HierarchyView
      points={points}
      ancestors={(id) => up[id]}
      descendants={(id) => down[id]}
      edges={edges}
      title="Animals"
      width={400}
      height={300}
    />,
  );
  return screen.getByRole('listbox', { name: 'Animals: 5 nodes' });
}

const node = (name: string) => screen.getByRole('option', { name });
const listed = (label: string) =>
  within(screen.getByRole('list', { name: label }))
    .getAllByRole('listitem')
    .map((li) => li.textContent);

afterEach(cleanup);

describe('HierarchyView', () => {
  it('draws one labelled point per node, a hyponym above and to the right of its hypernym', () => {
    setup();
    expect(screen.getAllByRole('option')).toHaveLength(5);
    const at = (name: string) => ({
      x: Number(node(name).getAttribute('cx')),
      y: Number(node(name).getAttribute('cy')),
    });
    // SVG y grows downwards: "above" is a smaller cy.
    expect(at('dog.n.01').x).toBeGreaterThan(at('animal.n.01').x);
    expect(at('dog.n.01').y).toBeLessThan(at('animal.n.01').y);
    expect(at('animal.n.01').x).toBeGreaterThan(at('entity.n.01').x);
    expect(at('animal.n.01').y).toBeLessThan(at('entity.n.01').y);
    expect(screen.getByText(/most general node is nearest the origin \(bottom left\)/)).toBeInTheDocument();
    expect(screen.getByText(/Hover or focus a node to list/)).toBeInTheDocument();
  });

  it('highlights and lists the ancestors and descendants of the hovered node', () => {
    setup();
    fireEvent.mouseEnter(node('animal.n.01'));
    expect(node('animal.n.01')).toHaveAttribute('data-role', 'active');
    expect(node('animal.n.01')).toHaveAttribute('aria-selected', 'true');
    expect(node('entity.n.01')).toHaveAttribute('data-role', 'ancestor');
    expect(node('dog.n.01')).toHaveAttribute('data-role', 'descendant');
    expect(node('city.n.01')).toHaveAttribute('data-role', 'other');
    expect(listed('Ancestors of animal.n.01')).toEqual(['entity.n.01']);
    expect(listed('Descendants of animal.n.01')).toEqual(['dog.n.01', 'cat.n.01']);
    fireEvent.mouseLeave(screen.getByRole('listbox'));
    expect(node('animal.n.01')).toHaveAttribute('data-role', 'none');
  });

  it('is usable from the keyboard: one tab stop, arrows move, Escape clears', () => {
    setup();
    const stops = screen.getAllByRole('option').filter((c) => c.getAttribute('tabindex') === '0');
    expect(stops).toHaveLength(1);
    act(() => node('entity.n.01').focus());
    expect(listed('Descendants of entity.n.01')).toHaveLength(4);
    fireEvent.keyDown(node('entity.n.01'), { key: 'ArrowRight' });
    expect(node('animal.n.01')).toHaveFocus();
    expect(node('animal.n.01')).toHaveAttribute('tabindex', '0');
    expect(node('entity.n.01')).toHaveAttribute('tabindex', '-1');
    fireEvent.keyDown(node('animal.n.01'), { key: 'End' });
    expect(node('city.n.01')).toHaveFocus();
    expect(listed('Ancestors of city.n.01')).toEqual(['entity.n.01']);
    expect(screen.getByText('none')).toBeInTheDocument(); // city has no descendants
    fireEvent.keyDown(node('city.n.01'), { key: 'ArrowRight' }); // wraps around
    expect(node('entity.n.01')).toHaveFocus();
    fireEvent.keyDown(node('entity.n.01'), { key: 'Escape' });
    expect(node('entity.n.01')).toHaveAttribute('data-role', 'none');
  });

  it('lists at most listLimit names per group', () => {
    render(
      <HierarchyView
        points={points}
        ancestors={(id) => up[id]}
        descendants={(id) => down[id]}
        listLimit={2}
      />,
    );
    fireEvent.mouseEnter(node('entity.n.01'));
    expect(listed('Descendants of entity.n.01')).toEqual(['animal.n.01', 'dog.n.01', 'and 2 more']);
  });
});
