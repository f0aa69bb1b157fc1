/* Fuzz the Zuora and Salesforce JSON mappers (untrusted upstream data):
 * the first byte picks the mapper and object, the rest is the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "upstream_salesforce.h"
#include "upstream_zuora.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sf_fields f = {"zqu__Subscription_Name__c", "Resale_Partner__c",
					   "Distributor__c",
					   "Required_Approvals_From_VP_of_Channel__c"};
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	struct upstream_page page;
	struct zuora_subscription_row sub;
	struct zuora_account_row acct;
	struct zuora_contact_row contacts[2];
	size_t n = 0, i;
	char why[256];

	if (!size)
		return 0;
	memset(&page, 0, sizeof(page));
	switch (data[0] % 6) {
	case 0:
	case 1:
	case 2:
		zuora_map_query_page(body, len, (enum sync_object)(data[0] % 3), "SSPChannel__c", &page,
				     why, sizeof(why));
		upstream_page_release(&page);
		break;
	case 3:
		memset(&sub, 0, sizeof(sub));
		zuora_map_rest_subscription(body, len, "SSPChannel__c", &sub, why, sizeof(why));
		zuora_subscription_row_release(&sub);
		break;
	case 4:
		memset(&acct, 0, sizeof(acct));
		memset(contacts, 0, sizeof(contacts));
		zuora_map_rest_account(body, len, "SSPChannel__c", &acct, contacts, &n, why,
				       sizeof(why));
		zuora_account_row_release(&acct);
		for (i = 0; i < n; i++)
			zuora_contact_row_release(&contacts[i]);
		break;
	default:
		sf_map_query_page(body, len, data[0] & 8 ? SYNC_SF_QUOTE : SYNC_SF_OPPORTUNITY_PARTNER,
				  &f, &page, why, sizeof(why));
		upstream_page_release(&page);
		break;
	}
	zuora_body_transient(body, len);
	return 0;
}
