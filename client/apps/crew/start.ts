// The app's first script: the database worker starts loading before the app does (client/ui/db-worker.ts).
import { startDatabaseWorkerEarly } from '../../ui/db-worker.ts';

startDatabaseWorkerEarly();
void import('./main.tsx');
