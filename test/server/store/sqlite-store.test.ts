import { sqliteFactory } from './fixtures.ts';
import { runStoreContract } from './store-contract.ts';

runStoreContract('SqliteStore', sqliteFactory);
