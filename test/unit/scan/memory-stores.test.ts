// The scan store contract against the in-memory adapters (the local runtime and the engine's tests use them).
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import { describeScanStoreContract } from '#test/support/scan-store-contract';

describeScanStoreContract('memory', (clock) => createMemoryScanStores(clock));
