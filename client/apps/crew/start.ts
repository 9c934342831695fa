// The app's first script (client/ui/app-start.ts): the database worker starts loading before the app does.
import { startApp } from '../../ui/app-start.ts';

startApp(() => import('./main.tsx'));
