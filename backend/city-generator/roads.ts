/**
 * The road network: every lattice line is a road, every 4th line and the city outline a major one.
 * The simulator walks staff from node to node along these edges.
 */
import type { LonLat } from '../../protocol/model';
import { cellCorners, nodeLonLat, type Lattice } from './lattice';
import { NameScope, roadName } from './names';
import type { Rng } from './random';

/** One named road: a polyline along one lattice line. */
export interface RoadLine {
  name: string;
  major: boolean;
  /** Node indices in order along the road. */
  nodes: number[];
}

export interface RoadNetwork {
  /** The lattice vertices (intersections), degrees. */
  nodes: LonLat[];
  edges: Array<[number, number]>;
  /** Per edge: part of a major road. */
  major: boolean[];
  /** Per edge: the index of its line in `lines`. */
  edgeLine: number[];
  /** Per edge: the road's name. */
  names: string[];
  /** Per edge: length in metres. */
  lengths: number[];
  lines: RoadLine[];
  neighbours(node: number): readonly number[];
  /** The edge joining two nodes, or -1. */
  edgeBetween(a: number, b: number): number;
  /** The grid's 4 corner nodes, in the order of its polygon. */
  nodesOfGrid(gridIndex: number): number[];
  /** The two roads crossing at a node: [north–south line, east–west line] as indices into `lines`. */
  linesAtNode(node: number): [number, number];
}

/** Lines 0..cols run north–south (lattice column i); lines cols+1.. run east–west (lattice row j). */
function makeLines(rng: Rng, l: Lattice): RoadLine[] {
  const scope = new NameScope();
  const lines: RoadLine[] = [];
  const isMajor = (k: number, last: number): boolean => k % 4 === 0 || k === last;
  for (let i = 0; i <= l.cols; i++) {
    const major = isMajor(i, l.cols);
    const nodes = Array.from({ length: l.rows + 1 }, (_, j) => j * (l.cols + 1) + i);
    lines.push({ name: scope.unique(() => roadName(rng, major)), major, nodes });
  }
  for (let j = 0; j <= l.rows; j++) {
    const major = isMajor(j, l.rows);
    const nodes = Array.from({ length: l.cols + 1 }, (_, i) => j * (l.cols + 1) + i);
    lines.push({ name: scope.unique(() => roadName(rng, major)), major, nodes });
  }
  return lines;
}

export function makeRoads(rng: Rng, l: Lattice, gridCell: Uint32Array): RoadNetwork {
  const lines = makeLines(rng, l);
  const edges: Array<[number, number]> = [];
  const edgeLine: number[] = [];
  lines.forEach((line, k) => {
    for (let s = 0; s + 1 < line.nodes.length; s++) {
      edges.push([line.nodes[s] as number, line.nodes[s + 1] as number]);
      edgeLine.push(k);
    }
  });
  const adjacency: number[][] = Array.from({ length: l.nodeCount }, () => []);
  const incident: number[][] = Array.from({ length: l.nodeCount }, () => []);
  edges.forEach(([a, b], e) => {
    adjacency[a]?.push(b);
    adjacency[b]?.push(a);
    incident[a]?.push(e);
    incident[b]?.push(e);
  });
  const line = (e: number): RoadLine => lines[edgeLine[e] as number] as RoadLine;
  const n = l.cols + 1;
  return {
    nodes: Array.from({ length: l.nodeCount }, (_, v) => nodeLonLat(l, v)),
    edges,
    major: edges.map((_, e) => line(e).major),
    edgeLine,
    names: edges.map((_, e) => line(e).name),
    lengths: edges.map(([a, b]) => Math.hypot((l.x[b] as number) - (l.x[a] as number), (l.y[b] as number) - (l.y[a] as number))),
    lines,
    neighbours: (node) => adjacency[node] ?? [],
    edgeBetween: (a, b) => (incident[a] ?? []).find((e) => {
      const [p, q] = edges[e] as [number, number];
      return (p === a && q === b) || (p === b && q === a);
    }) ?? -1,
    nodesOfGrid: (g) => {
      const cell = gridCell[g];
      if (cell === undefined) throw new Error(`nodesOfGrid: no grid ${g}`);
      return cellCorners(l, cell);
    },
    linesAtNode: (node) => [node % n, l.cols + 1 + Math.floor(node / n)],
  };
}
