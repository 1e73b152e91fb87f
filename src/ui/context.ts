import { createContext, useContext } from 'react';
import type { TrainingClient } from './client';

/** The one client of the page, for the panels that send requests. */
export const ClientContext = createContext<TrainingClient | null>(null);

export function useClient(): TrainingClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient() outside <ClientContext.Provider>');
  return client;
}
