/**
 * WordNet hypernym prediction with order embeddings (Vendrov et al. 2016, Sect. 4.1): parsing, closure,
 * the paper's and the corrected protocol, training, and the live 2-D trainer for the UI.
 */
export * from './parse';
export * from './closure';
export * from './protocols';
export * from './model';
export * from './experiment';
export * from './hierarchy-trainer';
